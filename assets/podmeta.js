// podmeta's setup page: copy and download buttons, the SDK tabs, and the builders, each
// of which asks the API (same origin) and shows its answer. The page's facts are in its
// HTML; nothing here repeats a rule the API applies. No inline script: the CSP allows
// only this file.
"use strict";

(function () {
  const pod = document.body.dataset.pod;

  // --- Copy and download -------------------------------------------------------------

  function textOf(id) {
    const element = document.getElementById(id);
    return element ? element.textContent : "";
  }

  function say(button, message) {
    const status = button.parentElement.querySelector(".status");
    if (status) {
      status.textContent = message;
    }
  }

  function selectText(id) {
    const element = document.getElementById(id);
    if (!element) {
      return;
    }
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  async function copy(button) {
    const id = button.dataset.copy;
    // The clipboard API needs a secure context (HTTPS, or localhost); on plain HTTP the
    // text is selected for the reader to copy.
    if (window.isSecureContext && navigator.clipboard) {
      try {
        await navigator.clipboard.writeText(textOf(id));
        say(button, "Copied.");
        return;
      } catch (e) {
        // Refused (no permission, not focused): fall back to selecting.
      }
    }
    selectText(id);
    say(button, "Selected: press Ctrl+C (\u2318C on a Mac) to copy.");
  }

  function download(button) {
    const blob = new Blob([textOf(button.dataset.download)], { type: button.dataset.type || "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = button.dataset.filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    say(button, "Downloaded " + button.dataset.filename + ".");
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy], button[data-download]");
    if (!button) {
      return;
    }
    if (button.dataset.copy) {
      copy(button);
    } else {
      download(button);
    }
  });

  // --- Tabs: the SDKs, each policy's forms (without script every panel shows) --------

  for (const list of document.querySelectorAll("[role=tablist]")) {
    const tabs = Array.from(list.querySelectorAll("[role=tab]"));
    const choose = (chosen, focus) => {
      for (const tab of tabs) {
        const selected = tab === chosen;
        tab.setAttribute("aria-selected", String(selected));
        tab.tabIndex = selected ? 0 : -1;
        document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
      }
      if (focus) {
        chosen.focus();
      }
    };
    list.hidden = false;
    tabs.forEach((tab, i) => {
      tab.addEventListener("click", () => choose(tab, false));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (step) {
          choose(tabs[(i + step + tabs.length) % tabs.length], true);
          event.preventDefault();
        } else if (event.key === "Home" || event.key === "End") {
          choose(tabs[event.key === "Home" ? 0 : tabs.length - 1], true);
          event.preventDefault();
        }
      });
    });
    if (tabs.length) {
      choose(tabs[0], false);
    }
  }

  // --- Asking the API ----------------------------------------------------------------

  // Answers arrive out of order when the reader types fast: only the latest counts.
  function latestOnly(run) {
    let counter = 0;
    let timer = 0;
    return (delay) => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const mine = ++counter;
        const result = await run();
        if (mine === counter && result) {
          result();
        }
      }, delay);
    };
  }

  async function ask(url, body) {
    const init = body === undefined
      ? { headers: { Accept: "application/json" } }
      : {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          // A string is sent as it is: a pasted policy keeps its bytes, and so its
          // repeated keys and its pointers.
          body: typeof body === "string" ? body : JSON.stringify(body),
        };
    try {
      const response = await fetch(url, init);
      const text = await response.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch (e) {
        json = null;
      }
      return { ok: response.ok, status: response.status, text, json };
    } catch (e) {
      return { ok: false, status: 0, text: "", json: { detail: "podmeta did not answer: " + e.message } };
    }
  }

  function showErrors(list, input, messages) {
    list.replaceChildren(...messages.map((m) => {
      const item = document.createElement("li");
      item.textContent = m;
      return item;
    }));
    if (input) {
      input.setAttribute("aria-invalid", messages.length ? "true" : "false");
    }
  }

  // The rules a problem names, for one field (or all, with no name).
  function rulesOf(problem, name) {
    if (!problem) {
      return ["podmeta gave no answer it could read."];
    }
    const errors = (problem.errors || []).filter((e) => !name || e.parameter === name || e.pointer === "#/" + name);
    return errors.length ? errors.map((e) => e.detail) : [problem.detail];
  }

  // --- The bucket-policy builder -------------------------------------------------

  const bucket = document.getElementById("bucket");
  if (bucket) {
    const errors = document.getElementById("bucket-errors");
    const result = document.getElementById("bucket-result");
    const formats = ["json", "terraform", "cloudformation"];
    const command = document.getElementById("bucket-command");
    const file = document.querySelector("[data-download=bucket-json]").dataset.filename;
    const update = latestOnly(async () => {
      const name = bucket.value;
      if (name === "") {
        return () => {
          showErrors(errors, bucket, []);
          result.hidden = true;
        };
      }
      // Every form at once, from the API, so that each tab holds the API's own bytes.
      const answers = await Promise.all(formats.map((format) =>
        ask("/pods/" + pod + "/bucket-policy?format=" + format, { bucket: name })));
      const answer = answers.find((a) => !a.ok) || answers[0];
      return () => {
        if (answer.ok) {
          showErrors(errors, bucket, []);
          formats.forEach((format, i) => {
            document.getElementById("bucket-" + format).textContent = answers[i].text;
          });
          command.textContent = "aws s3api put-bucket-policy --bucket " + name + " --policy file://" + file;
          result.hidden = false;
        } else {
          showErrors(errors, bucket, rulesOf(answer.json, "bucket"));
          result.hidden = true;
        }
      };
    });
    bucket.addEventListener("input", () => update(250));
    bucket.form.addEventListener("submit", (event) => {
      event.preventDefault();
      update(0);
    });
    if (bucket.value) {
      update(0);
    }
  }

  // --- The Lambda ARN builder ---------------------------------------------------------

  const arnForm = document.getElementById("arn-form");
  if (arnForm) {
    const fields = ["account_id", "function", "alias"].map((name) => ({
      name,
      input: document.getElementById("arn-" + name),
      errors: document.getElementById("arn-" + name + "-errors"),
    }));
    const result = document.getElementById("arn-result");
    const arn = document.getElementById("arn-value");
    const update = latestOnly(async () => {
      if (fields.some((f) => f.input.value === "")) {
        return () => {
          fields.forEach((f) => showErrors(f.errors, f.input, []));
          result.hidden = true;
        };
      }
      const query = new URLSearchParams(fields.map((f) => [f.name, f.input.value]));
      const answer = await ask("/pods/" + pod + "/rules/lambda-arn?" + query);
      return () => {
        if (answer.ok && answer.json) {
          fields.forEach((f) => showErrors(f.errors, f.input, []));
          arn.textContent = answer.json.arn;
          result.hidden = false;
        } else {
          const named = (answer.json && answer.json.errors) || [];
          fields.forEach((f) => showErrors(f.errors, f.input, named.filter((e) => e.parameter === f.name).map((e) => e.detail)));
          if (!named.length) {
            showErrors(fields[0].errors, fields[0].input, rulesOf(answer.json));
          }
          result.hidden = true;
        }
      };
    });
    for (const field of fields) {
      field.input.addEventListener("input", () => update(250));
    }
    arnForm.addEventListener("submit", (event) => {
      event.preventDefault();
      update(0);
    });
  }

  // --- Checking a policy someone already has ---------------------------------------

  // `value` as JSON lines (two-space indent), each with the JSON pointer of the value it
  // opens, so that a finding can be shown under the line its pointer names.
  function linesOf(value) {
    const lines = [];
    const token = (key) => String(key).replace(/~/g, "~0").replace(/\//g, "~1");
    function walk(value, pointer, indent, prefix, comma) {
      const pad = "  ".repeat(indent);
      const end = comma ? "," : "";
      if (Array.isArray(value) || (value !== null && typeof value === "object")) {
        const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
        const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
        if (entries.length === 0) {
          lines.push({ pointer, text: pad + prefix + open + close + end });
          return;
        }
        lines.push({ pointer, text: pad + prefix + open });
        entries.forEach(([key, item], i) => {
          const label = Array.isArray(value) ? "" : JSON.stringify(key) + ": ";
          walk(item, pointer + "/" + token(key), indent + 1, label, i < entries.length - 1);
        });
        lines.push({ pointer: null, text: pad + close + end });
      } else {
        lines.push({ pointer, text: pad + prefix + JSON.stringify(value) + end });
      }
    }
    walk(value, "#", 0, "", false);
    return lines;
  }

  function findingItem(finding) {
    const item = document.createElement("li");
    item.className = "finding " + finding.severity;
    const head = document.createElement("strong");
    head.textContent = finding.severity + " (" + finding.rule + "): ";
    item.append(head, document.createTextNode(finding.detail));
    return item;
  }

  document.querySelectorAll("form.check").forEach((form) => {
    const id = form.id.replace(/-form$/, "");
    const input = document.getElementById(id + "-policy");
    const errors = document.getElementById(id + "-errors");
    const result = document.getElementById(id + "-result");
    const summary = document.getElementById(id + "-summary");
    const list = document.getElementById(id + "-lines");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.hidden = true;
      if (input.value.trim() === "") {
        showErrors(errors, input, ["Paste the policy's JSON."]);
        return;
      }
      // POST: a customer's policy never goes in a URL.
      const reply = await ask(form.dataset.url, input.value);
      if (!reply.ok || !reply.json || !Array.isArray(reply.json.findings)) {
        showErrors(errors, input, rulesOf(reply.json, null).concat(
          ((reply.json && reply.json.errors) || []).map((e) => (e.pointer || e.parameter) + ": " + e.detail)));
        return;
      }
      showErrors(errors, input, []);
      const answer = reply.json;
      const lines = linesOf(JSON.parse(input.value));
      // Each finding under the line its pointer names; one about something missing, or
      // whose value is not shown, comes first.
      const placed = new Map();
      const first = [];
      answer.findings.forEach((finding) => {
        const line = lines.findIndex((l) => l.pointer !== null && l.pointer === finding.pointer);
        if (line < 0) {
          first.push(finding);
        } else {
          placed.set(line, (placed.get(line) || []).concat([finding]));
        }
      });
      const errorCount = answer.findings.filter((f) => f.severity === "error").length;
      const warnings = answer.findings.length - errorCount;
      summary.className = answer.ok ? "answer" : "answer error";
      summary.textContent = answer.findings.length === 0
        ? "No finding: this policy is right for " + answer.pod.toUpperCase() + "."
        : (answer.ok ? "It works, with " : "It will not work: ") + errorCount + " error" + (errorCount === 1 ? "" : "s") +
          ", " + warnings + " warning" + (warnings === 1 ? "" : "s") + ". Each is under the line it is about.";
      const items = [];
      if (first.length) {
        const item = document.createElement("li");
        item.className = "missing";
        const findings = document.createElement("ul");
        findings.className = "findings";
        findings.append(...first.map(findingItem));
        item.append(document.createTextNode("Missing from the policy:"), findings);
        items.push(item);
      }
      lines.forEach((line, i) => {
        const item = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = line.text;
        item.append(code);
        const here = placed.get(i);
        if (here) {
          item.className = "flagged";
          const findings = document.createElement("ul");
          findings.className = "findings";
          findings.append(...here.map(findingItem));
          item.append(findings);
        }
        items.push(item);
      });
      list.replaceChildren(...items);
      result.hidden = false;
    });
  });

  // --- Which pod is this? ----------------------------------------------------------

  const lookup = document.getElementById("lookup-form");
  if (lookup) {
    const input = document.getElementById("lookup-q");
    const errors = document.getElementById("lookup-errors");
    const answer = document.getElementById("lookup-answer");
    lookup.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (input.value.trim() === "") {
        showErrors(errors, input, ["Paste a host, URL, IP address, API key, AWS region or ARN."]);
        answer.replaceChildren();
        return;
      }
      // POST, so that a pasted API key never appears in a URL.
      const reply = await ask("/lookup", { q: input.value });
      if (reply.ok && reply.json) {
        showErrors(errors, input, []);
        const pods = reply.json.pods;
        const intro = document.createElement("span");
        intro.className = "answer";
        intro.textContent = (pods.length === 1 ? "Pod " : "Pods ") + pods.map((p) => p.name).join(", ") + " (matched as " + reply.json.matched_by.replace("_", " ") + "): ";
        const links = pods.map((p) => {
          const link = document.createElement("a");
          link.href = "/ui/" + p.id;
          link.textContent = p.name + ", " + p.location + ", " + p.aws_region;
          return link;
        });
        const parts = [intro];
        links.forEach((link, i) => {
          if (i) {
            parts.push(document.createTextNode("; "));
          }
          parts.push(link);
        });
        answer.replaceChildren(...parts);
      } else {
        showErrors(errors, input, [reply.json ? reply.json.detail : "podmeta gave no answer it could read."]);
        answer.replaceChildren();
      }
    });
  }
})();
