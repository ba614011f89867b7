"""The setup page in a real browser: headless Chromium over WebDriver.

Run by scripts/ui-test.sh, which starts the release binary and sets PODMETA_URL, and
which .ci/run calls every time. Each test reads the API's own answers to compare with
what the page shows, so that the page cannot drift from the API unnoticed.
"""

import json
import os
import pathlib
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["PODMETA_URL"].rstrip("/")
AXE = pathlib.Path(os.environ["AXE_JS"]).read_text()
SCREENSHOTS = pathlib.Path(os.environ.get("SCREENSHOTS", "target/ui-screenshots"))
PODS = ["us1", "us2", "eu1", "au1"]
FORMATS = ["json", "terraform", "cloudformation"]
MAX_PAGE_BYTES = 60 * 1000


def api(path, body=None):
    """The API's answer to GET (or, with a body, POST) path: (status, text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method="POST" if data else "GET")
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    elif isinstance(value, (str, int)) and not isinstance(value, bool):
        yield str(value)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1440,1000", "--disable-gpu"]:
        options.add_argument(argument)
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(15)
    yield driver
    driver.quit()


def wait(driver, condition, timeout=5):
    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def open_page(driver, path):
    driver.get(BASE + path)
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def text_of(driver, element_id):
    return driver.execute_script(f"return document.getElementById('{element_id}').textContent")


def type_into(driver, element_id, text):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)
    return field


@pytest.mark.parametrize("pod", PODS)
def test_every_value_of_the_pod_is_shown(browser, pod):
    open_page(browser, f"/ui/{pod}")
    shown = browser.execute_script("return document.body.innerText")
    status, body = api(f"/pods/{pod}")
    assert status == 200
    values = list(leaves(json.loads(body)))
    assert len(values) > 25
    missing = [v for v in values if v not in shown]
    assert not missing, f"not shown on /ui/{pod}: {missing}"


def test_the_bucket_builder_shows_each_broken_rule_then_the_policy_byte_for_byte(browser):
    open_page(browser, "/ui/eu1")
    field = type_into(browser, "bucket", "Acme..bucket")
    status, problem = api("/pods/eu1/bucket-policy", {"bucket": "Acme..bucket"})
    assert status == 422
    expected = [e["detail"] for e in json.loads(problem)["errors"]]
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#bucket-errors li")) == len(expected))
    shown = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#bucket-errors li")]
    assert shown == expected
    assert field.get_attribute("aria-invalid") == "true"
    assert not browser.find_element(By.ID, "bucket-result").is_displayed()

    type_into(browser, "bucket", "mp-forwarding-acme")
    wait(browser, lambda d: d.find_element(By.ID, "bucket-result").is_displayed())
    # Each form is the API's own answer in that form.
    for format in FORMATS:
        status, policy = api(f"/pods/eu1/bucket-policy?format={format}", {"bucket": "mp-forwarding-acme"})
        assert status == 200
        assert text_of(browser, f"bucket-{format}") == policy, format
    assert text_of(browser, "bucket-command") == (
        "aws s3api put-bucket-policy --bucket mp-forwarding-acme"
        " --policy file://mparticle-eu1-bucket-policy.json")
    assert field.get_attribute("aria-invalid") == "false"
    assert browser.find_elements(By.CSS_SELECTOR, "#bucket-errors li") == []


def test_the_arn_builder_builds_the_apis_arn_and_ties_errors_to_their_fields(browser):
    open_page(browser, "/ui/au1")
    type_into(browser, "arn-account_id", "12")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#arn-account_id-errors li"))
    assert browser.find_elements(By.CSS_SELECTOR, "#arn-function-errors li") == []

    type_into(browser, "arn-account_id", "123456789012")
    type_into(browser, "arn-function", "mprmyrule")
    browser.find_element(By.CSS_SELECTOR, "#arn-alias option[value='$LATEST']").click()
    status, body = api("/pods/au1/rules/lambda-arn?account_id=123456789012&function=mprmyrule&alias=%24LATEST")
    assert status == 200
    arn = json.loads(body)["arn"]
    wait(browser, lambda d: text_of(d, "arn-value") == arn)
    assert browser.find_element(By.ID, "arn-result").is_displayed()
    assert browser.find_elements(By.CSS_SELECTOR, "#arn-account_id-errors li") == []


def test_a_pasted_host_finds_its_pod_and_a_key_never_reaches_a_url(browser):
    open_page(browser, "/ui/")
    type_into(browser, "lookup-q", "sftp.eu1.mparticle.com").send_keys(Keys.ENTER)
    wait(browser, lambda d: "EU1" in d.find_element(By.ID, "lookup-answer").text)
    link = browser.find_element(By.CSS_SELECTOR, "#lookup-answer a")
    assert link.get_attribute("href") == BASE + "/ui/eu1"
    assert "host" in browser.find_element(By.ID, "lookup-answer").text

    type_into(browser, "lookup-q", "au1-Zq7SecretKeyHalf").send_keys(Keys.ENTER)
    wait(browser, lambda d: "AU1" in d.find_element(By.ID, "lookup-answer").text)
    urls = browser.execute_script("return performance.getEntries().map(e => e.name)")
    assert not [u for u in urls if "Zq7" in u]

    type_into(browser, "lookup-q", "app.example.com").send_keys(Keys.ENTER)
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#lookup-errors li"))
    assert "No pod matches" in browser.find_element(By.ID, "lookup-errors").text


US1_ROLE = "arn:aws:iam::338661164609:role/Prod-Role-DG12-Default"


def mistaken_bucket_policy():
    """EU1's bucket policy with US1's first role where EU1's should be, as a person pastes it."""
    status, body = api("/pods/eu1/bucket-policy", {"bucket": "mp-forwarding-acme"})
    assert status == 200
    return body.replace("arn:aws:iam::583371261087:role/Prod-Role-DG12-Default", US1_ROLE)


def paste(browser, element_id, text):
    field = browser.find_element(By.ID, element_id)
    field.clear()
    # Set as a paste would, in one go (send_keys types each key, and a textarea's
    # auto-indent does not apply to a paste).
    browser.execute_script("arguments[0].value = arguments[1];", field, text)
    return field


def test_a_pasted_bucket_policy_shows_each_finding_under_its_line_by_keyboard(browser):
    open_page(browser, "/ui/eu1")
    policy = mistaken_bucket_policy()
    paste(browser, "check-bucket-policy", policy)
    # By keyboard: from the field, Tab reaches the button, and Enter checks.
    browser.find_element(By.ID, "check-bucket-policy").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Check the policy"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.find_element(By.ID, "check-bucket-result").is_displayed())
    summary = browser.find_element(By.ID, "check-bucket-summary").text
    assert summary.startswith("It will not work: 2 errors"), summary
    # The foreign principal is under the line holding US1's ARN, with the right one.
    flagged = browser.find_elements(By.CSS_SELECTOR, "#check-bucket-lines li.flagged")
    assert len(flagged) == 1
    assert US1_ROLE in flagged[0].find_element(By.TAG_NAME, "code").text
    assert "use arn:aws:iam::583371261087:role/Prod-Role-DG12-Default" in flagged[0].text
    assert "foreign-principal" in flagged[0].text
    # The missing role has no line: it comes first.
    missing = browser.find_element(By.CSS_SELECTOR, "#check-bucket-lines li.missing")
    assert "missing-principal" in missing.text
    # The same answer as the API's, finding for finding, and the policy never in a URL.
    status, body = api("/pods/eu1/bucket-policy/check", json.loads(policy))
    shown = browser.find_element(By.ID, "check-bucket-lines").text
    for finding in json.loads(body)["findings"]:
        assert finding["detail"] in shown
    urls = browser.execute_script("return performance.getEntries().map(e => e.name)")
    assert not [u for u in urls if "338661164609" in u]
    # The right policy: no finding.
    status, right = api("/pods/eu1/bucket-policy", {"bucket": "mp-forwarding-acme"})
    paste(browser, "check-bucket-policy", right)
    browser.find_element(By.CSS_SELECTOR, "#check-bucket-form button").click()
    wait(browser, lambda d: "No finding" in d.find_element(By.ID, "check-bucket-summary").text)
    assert not browser.find_elements(By.CSS_SELECTOR, "#check-bucket-lines li.flagged")


def test_a_pasted_iam_policy_of_another_pod_shows_the_wrong_region_and_bad_json_its_error(browser):
    open_page(browser, "/ui/eu1")
    status, us1 = api("/pods/us1/rules/iam-policy")
    paste(browser, "check-iam-policy", us1)
    browser.find_element(By.CSS_SELECTOR, "#check-iam-form button").click()
    wait(browser, lambda d: d.find_element(By.ID, "check-iam-result").is_displayed())
    flagged = browser.find_elements(By.CSS_SELECTOR, "#check-iam-lines li.flagged")
    assert len(flagged) == 2
    assert all("us-east-1" in f.find_element(By.TAG_NAME, "code").text for f in flagged)
    assert all("wrong-region" in f.text for f in flagged)
    paste(browser, "check-iam-policy", '{"Statement": ')
    browser.find_element(By.CSS_SELECTOR, "#check-iam-form button").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#check-iam-errors li"))
    assert "not JSON" in browser.find_element(By.ID, "check-iam-errors").text
    assert not browser.find_element(By.ID, "check-iam-result").is_displayed()


def test_the_picker_switches_pods(browser):
    open_page(browser, "/ui/eu1")
    current = browser.find_element(By.CSS_SELECTOR, "nav.pods a[aria-current=page]")
    assert current.get_attribute("href") == BASE + "/ui/eu1"
    browser.find_element(By.CSS_SELECTOR, "nav.pods a[href='/ui/us2']").click()
    wait(browser, lambda d: d.current_url == BASE + "/ui/us2")
    assert "US2" in browser.find_element(By.TAG_NAME, "h1").text
    current = browser.find_element(By.CSS_SELECTOR, "nav.pods a[aria-current=page]")
    assert current.get_attribute("href") == BASE + "/ui/us2"
    # Where the source page is wrong, the page says what is served and why.
    assert "/v2/bulkevent" in browser.find_element(By.CSS_SELECTOR, ".note").text


def test_the_sdk_tabs_work_by_mouse_and_by_keyboard(browser):
    open_page(browser, "/ui/eu1")
    tabs = browser.find_elements(By.CSS_SELECTOR, "#sdk-tabs [role=tab]")
    assert [t.text for t in tabs] == ["Go", "Java", "Node", "Python", "Ruby"]
    panels = browser.find_elements(By.CSS_SELECTOR, "[role=tabpanel][id^=sdk-panel]")
    assert [p.is_displayed() for p in panels] == [True, False, False, False, False]
    tabs[3].click()
    assert panels[3].is_displayed() and not panels[0].is_displayed()
    assert "configuration.host" in panels[3].text
    tabs[3].send_keys(Keys.ARROW_RIGHT)
    assert browser.switch_to.active_element == tabs[4]
    assert panels[4].is_displayed()
    assert tabs[4].get_attribute("aria-selected") == "true"


def test_each_policys_forms_are_tabs_that_work_by_mouse_and_by_keyboard(browser):
    open_page(browser, "/ui/eu1")
    tabs = browser.find_elements(By.CSS_SELECTOR, "#iam-tabs [role=tab]")
    assert [t.text for t in tabs] == ["JSON", "Terraform", "CloudFormation", "AWS CLI"]
    panels = [browser.find_element(By.ID, t.get_attribute("aria-controls")) for t in tabs]
    assert [p.is_displayed() for p in panels] == [True, False, False, False]
    # The forms are the API's, server-rendered: no script needed to fill them.
    for format in FORMATS:
        status, policy = api(f"/pods/eu1/rules/iam-policy?format={format}")
        assert status == 200
        assert text_of(browser, f"iam-{format}") == policy, format
    tabs[1].click()
    assert panels[1].is_displayed() and not panels[0].is_displayed()
    assert 'resource "aws_iam_user_policy"' in panels[1].text
    tabs[1].send_keys(Keys.ARROW_RIGHT)
    assert browser.switch_to.active_element == tabs[2]
    assert tabs[2].get_attribute("aria-selected") == "true" and panels[2].is_displayed()
    tabs[2].send_keys(Keys.END)
    assert browser.switch_to.active_element == tabs[3] and panels[3].is_displayed()
    assert "aws iam put-user-policy" in panels[3].text
    assert "file://mparticle-eu1-rules-iam.json" in panels[3].text
    tabs[3].send_keys(Keys.ARROW_RIGHT)  # wraps round
    assert browser.switch_to.active_element == tabs[0] and panels[0].is_displayed()
    tabs[0].send_keys(Keys.END)
    tabs[3].send_keys(Keys.HOME)
    assert browser.switch_to.active_element == tabs[0]
    # Only the chosen tab is in the Tab order; the other policy's tabs are their own.
    assert [t.get_attribute("tabindex") for t in tabs] == ["0", "-1", "-1", "-1"]
    bucket_tabs = browser.find_elements(By.CSS_SELECTOR, "#bucket-tabs [role=tab]")
    assert [t.get_attribute("textContent") for t in bucket_tabs] == [t.text for t in tabs]
    assert bucket_tabs[0].get_attribute("aria-selected") == "true"


def test_keyboard_focus_is_visible(browser):
    open_page(browser, "/ui/eu1")
    # Keyboard alone: the first Tab reaches the skip link, with a visible focus ring.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("class") == "skip"
    assert focused.value_of_css_property("outline-style") != "none"


def press_copy(browser, target):
    """Presses the copy button of the element `target` from the keyboard; its status."""
    button = browser.find_element(By.CSS_SELECTOR, f"button[data-copy='{target}']")
    browser.execute_script("arguments[0].focus()", button)
    button.send_keys(Keys.ENTER)
    status = button.find_element(By.XPATH, "following-sibling::span[@class='status']")
    wait(browser, lambda d: status.text != "")
    return status.text


def test_a_copy_button_writes_the_value_to_the_clipboard_in_a_secure_context(browser):
    open_page(browser, "/ui/eu1")
    # The clipboard API, recorded rather than real: headless Chromium may refuse it.
    browser.execute_script("""
        window.copied = [];
        Object.defineProperty(navigator, 'clipboard', {configurable: true, value: {
            writeText: (text) => { window.copied.push(text); return Promise.resolve(); }}});
    """)
    assert browser.execute_script("return window.isSecureContext")
    assert press_copy(browser, "login-0") == "Copied."
    assert browser.execute_script("return window.copied") == ["https://app.eu1.mparticle.com"]


def test_without_the_clipboard_api_a_copy_button_selects_the_value_and_says_press_ctrl_c(browser):
    open_page(browser, "/ui/eu1")
    # As on plain HTTP, where navigator.clipboard does not exist.
    browser.execute_script(
        "Object.defineProperty(navigator, 'clipboard', {configurable: true, value: undefined})")
    assert press_copy(browser, "sftp-ip-0") == "Selected: press Ctrl+C (\u2318C on a Mac) to copy."
    assert browser.execute_script("return window.getSelection().toString()") == "18.157.92.224"


def download(browser, tmp_path, target, name):
    """Clicks the download button of `target`; the text of the file it saved as `name`."""
    browser.find_element(By.CSS_SELECTOR, f"button[data-download='{target}']").click()
    downloaded = tmp_path / name
    wait(browser, lambda d: downloaded.exists() and downloaded.stat().st_size > 0)
    return downloaded.read_text()


def test_each_policy_form_downloads_under_its_own_name_byte_for_byte(browser, tmp_path):
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(tmp_path)})
    open_page(browser, "/ui/eu1")
    type_into(browser, "bucket", "mp-forwarding-acme")
    wait(browser, lambda d: d.find_element(By.ID, "bucket-result").is_displayed())
    bucket = {"bucket": "mp-forwarding-acme"}
    assert download(browser, tmp_path, "bucket-json", "mparticle-eu1-bucket-policy.json") == \
        api("/pods/eu1/bucket-policy", bucket)[1]
    browser.find_element(By.ID, "bucket-tab-terraform").click()
    assert download(browser, tmp_path, "bucket-terraform", "mparticle-eu1-bucket-policy.tf") == \
        api("/pods/eu1/bucket-policy?format=terraform", bucket)[1]
    browser.find_element(By.ID, "iam-tab-cloudformation").click()
    assert download(browser, tmp_path, "iam-cloudformation", "mparticle-eu1-rules-iam.yaml") == \
        api("/pods/eu1/rules/iam-policy?format=cloudformation")[1]


def test_the_page_made_no_request_to_any_other_origin(browser):
    open_page(browser, "/ui/eu1")
    type_into(browser, "bucket", "mp-forwarding-acme")
    wait(browser, lambda d: d.find_element(By.ID, "bucket-result").is_displayed())
    names = browser.execute_script(
        "return [location.href].concat(performance.getEntriesByType('navigation')"
        ".concat(performance.getEntriesByType('resource')).map(e => e.name))")
    assert len(names) >= 5, names  # the page, its two files, and the builder's POSTs
    foreign = [n for n in names if not n.startswith(BASE + "/")]
    assert not foreign, foreign


def test_one_load_weighs_at_most_60_kb_over_the_wire(browser):
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.clearBrowserCache", {})
    open_page(browser, "/ui/eu1")
    sizes = browser.execute_script("""
        const entries = performance.getEntriesByType('navigation')
            .concat(performance.getEntriesByType('resource'));
        return entries.map(e => [e.name, e.transferSize, e.encodedBodySize]);
    """)
    total = sum(size for _, size, _ in sizes)
    print(f"\npage weight of /ui/eu1: {total} bytes over the wire in {len(sizes)} responses")
    for name, size, body in sizes:
        print(f"  {size:6d} bytes ({body} of body)  {name}")
    assert all(size > 0 for _, size, _ in sizes), "a response came from the cache"
    assert total <= MAX_PAGE_BYTES


def assert_axe_clean(browser, what):
    """Runs axe-core on the page as it is; fails on any serious or critical violation."""
    browser.execute_script(AXE)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations));")
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in result
           if v["impact"] in ("serious", "critical")]
    print(f"\naxe-core {what}: {len(result)} violations, serious or critical: {bad}")
    assert not bad, f"{what}: {bad}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation(browser, scheme):
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": scheme}]})
    try:
        for path in ["/ui/", "/ui/us2", "/ui/zz9"]:
            open_page(browser, path)
            assert browser.execute_script(
                f"return matchMedia('(prefers-color-scheme: {scheme})').matches")
            # With the builders' errors and answers showing too.
            if path == "/ui/us2":
                type_into(browser, "bucket", "Acme..bucket")
                wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#bucket-errors li"))
                assert_axe_clean(browser, f"{scheme} {path} with the bucket's errors")
                type_into(browser, "bucket", "mp-forwarding-acme")
                wait(browser, lambda d: d.find_element(By.ID, "bucket-result").is_displayed())
                browser.find_element(By.ID, "bucket-tab-cloudformation").click()
                assert_axe_clean(browser, f"{scheme} {path} with the bucket's policy in tabs")
                paste(browser, "check-bucket-policy", mistaken_bucket_policy().replace("583371261087", "386705975570"))
                browser.find_element(By.CSS_SELECTOR, "#check-bucket-form button").click()
                wait(browser, lambda d: d.find_element(By.ID, "check-bucket-result").is_displayed())
                assert_axe_clean(browser, f"{scheme} {path} with a checked policy's findings")
            else:
                assert_axe_clean(browser, f"{scheme} {path}")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


@pytest.mark.parametrize("width", [375, 1440])
def test_the_page_fits_the_width_and_is_photographed(browser, width):
    browser.set_window_size(width, 900)
    try:
        open_page(browser, "/ui/eu1")
        inner = browser.execute_script("return window.innerWidth")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{overflow} px wider than the {inner} px window"
        # With the bucket-policy builder answering, as a reader would see it.
        type_into(browser, "bucket", "mp-forwarding-acme")
        wait(browser, lambda d: d.find_element(By.ID, "bucket-result").is_displayed())
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"with the policy: {overflow} px wider than the {inner} px window"
        # Each tab of a policy fits too (the widest form scrolls inside its own box).
        for tab in browser.find_elements(By.CSS_SELECTOR, "#bucket-tabs [role=tab], #iam-tabs [role=tab]"):
            tab.click()
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"with {tab.get_attribute('id')}: {overflow} px too wide"
        for tabs in ["bucket-tabs", "iam-tabs"]:
            browser.find_element(By.CSS_SELECTOR, f"#{tabs} [role=tab]").click()
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(height + 200, 8000))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"ui-eu1-{width}.png"
        assert browser.save_screenshot(str(path))
        print(f"\nscreenshot: {path}")
    finally:
        browser.set_window_size(1440, 1000)


LINE_BREAKS_JS = """
    // Each place where a value on the page wraps, with the character before it, unless
    // it wraps after a character that ends a part of it (/ . : - or a space).
    const bad = [];
    for (const code of document.querySelectorAll('.value code')) {
        const chars = [];
        const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.length; i++) {
                const range = document.createRange();
                range.setStart(node, i);
                range.setEnd(node, i + 1);
                const rect = range.getClientRects()[0];
                if (rect) chars.push([node.data[i], rect.top]);
            }
        }
        for (let i = 1; i < chars.length; i++) {
            if (chars[i][1] > chars[i - 1][1] + 2 && !'/.:- '.includes(chars[i - 1][0])) {
                bad.push(code.textContent.slice(0, i) + '|' + code.textContent.slice(i));
            }
        }
    }
    return bad;
"""


def test_at_375_px_values_wrap_only_after_a_separator_and_keep_their_copy_button_beside(browser):
    browser.set_window_size(375, 900)
    try:
        for pod in PODS:
            open_page(browser, f"/ui/{pod}")
            assert browser.execute_script(LINE_BREAKS_JS) == [], pod
            beside = browser.execute_script("""
                return [...document.querySelectorAll('.value')].filter(v => {
                    const code = v.querySelector('code'), button = v.querySelector('button');
                    if (!code || !button) return false;
                    return button.getBoundingClientRect().top >= code.getBoundingClientRect().bottom;
                }).map(v => v.querySelector('code').textContent);
            """)
            assert beside == [], f"{pod}: a Copy button wrapped below its value: {beside}"
    finally:
        browser.set_window_size(1440, 1000)


def test_only_values_to_paste_have_copy_buttons(browser):
    open_page(browser, "/ui/eu1")
    sdks = browser.find_element(
        By.XPATH, "//dt[text()='Server SDKs that need the pod set']/following-sibling::dd")
    assert sdks.text == "Go, Java, Node, Python, Ruby"
    assert sdks.find_elements(By.TAG_NAME, "button") == []


def test_a_correction_says_what_the_source_page_prints_once(browser):
    open_page(browser, "/ui/us2")
    note = browser.find_element(By.CSS_SELECTOR, ".note").text
    assert note.count("The source page prints") == 1, note
    assert "https://s2s.us2.mparticle.com/v2/bulkevent" in note


def test_every_page_names_the_product_links_home_and_has_an_icon(browser):
    for path in ["/ui/", "/ui/eu1", "/ui/zz9"]:
        open_page(browser, path)
        home = browser.find_element(By.CSS_SELECTOR, "header .brand a")
        assert home.text == "podmeta" and home.get_attribute("href") == BASE + "/ui/", path
        icon = browser.find_element(By.CSS_SELECTOR, "link[rel=icon]").get_attribute("href")
        assert icon.startswith(BASE + "/ui/assets/podmeta.") and icon.endswith(".svg"), icon
        request = urllib.request.Request(icon)
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/svg+xml"
    # The footer's JSON link is JSON, not the redirect browsers get for /.
    json_link = browser.find_element(By.XPATH, "//footer//a[text()='the pods as JSON']")
    assert json_link.get_attribute("href") == BASE + "/pods"


def test_the_builders_show_the_shape_they_expect(browser):
    open_page(browser, "/ui/eu1")
    for field, expected in [("bucket", "mp-forwarding-acme"), ("arn-account_id", "123456789012"),
                            ("arn-function", "mprmyrule"), ("lookup-q", "https://app.eu1.mparticle.com")]:
        placeholder = browser.find_element(By.ID, field).get_attribute("placeholder")
        assert placeholder.startswith(expected), f"{field}: {placeholder!r}"


def test_axe_finds_no_serious_or_critical_violation_at_375_px(browser):
    browser.set_window_size(375, 900)
    try:
        for path in ["/ui/", "/ui/eu1", "/ui/us2"]:
            open_page(browser, path)
            assert_axe_clean(browser, f"375 px {path}")
    finally:
        browser.set_window_size(1440, 1000)
