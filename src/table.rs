//! The pod table: its file format, and loading it, which is validating it.
//!
//! `config/pods.toml` is parsed straight into the domain types of [`crate::domain`], so a
//! value that is not valid never gets past serde. What no single value can check (an
//! empty table, a pod id used twice, a host claimed by two pods, an Events API URL with
//! the wrong path) is checked here, and every problem is reported with the file, the line
//! or the key path, and what was expected.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::{
    AccountId, AwsRegion, BucketPrefix, Hostname, HttpsUrl, IamRoleArn, Ipv4, Label, LambdaAlias,
    LambdaFunctionName, NonEmpty, Note, PodId, Port,
};
use crate::sdk::ServerSdk;

/// The table compiled into the binary: the default when no file is named.
pub const BUILTIN_TOML: &str = include_str!("../config/pods.toml");
/// How the compiled-in table is named in messages.
pub const BUILTIN_NAME: &str = "<built-in config/pods.toml>";

/// The largest table file read: room for tables far beyond today's (a 5,000-pod table
/// is about 2 MB).
pub const MAX_TABLE_BYTES: usize = 4 * 1024 * 1024;

/// A loaded, fully validated pod table. Immutable: a reload builds a new one.
#[derive(Debug)]
pub struct Table {
    file: TableFile,
    /// Where the table came from, for messages and the index.
    source: String,
    /// `sha256:<hex>` of the file's bytes: equal tables have equal versions on every
    /// replica.
    version: String,
    /// Pod id → position in `file.pods`, for O(1) lookups on the request path.
    index: HashMap<PodId, usize>,
}

/// The file's top level, exactly as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    ip_ranges_url: HttpsUrl,
    /// The pod of API keys without a pod prefix, and of SDKs left at their defaults.
    default_pod: Spanned<PodId>,
    sdks_requiring_pod: NonEmpty<ServerSdk>,
    client_sdks: ClientSdkFacts,
    s3: S3Facts,
    rules: RulesFacts,
    /// Missing and empty are both refused after parsing, with a message that says so.
    #[serde(default)]
    pods: Vec<Pod>,
}

/// Facts about the client SDKs shared by every pod.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSdkFacts {
    /// The default hosts; with direct URL routing a pod's are derived from them.
    pub hosts: NonEmpty<Hostname>,
}

/// Facts about S3 forwarding shared by every pod.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Facts {
    pub bucket_prefix: BucketPrefix,
}

/// Facts about Rules (AWS Lambda) shared by every pod.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFacts {
    /// Every Rules function name begins with this (`mpr`).
    pub function_prefix: LambdaFunctionName,
    /// The aliases a rule may use, production first (`PROD`, `$LATEST`).
    pub aliases: NonEmpty<LambdaAlias>,
    /// The placeholder account of the page's example ARNs.
    pub example_account_id: AccountId,
    /// The placeholder function of the page's example ARNs.
    pub example_function: LambdaFunctionName,
}

/// One pod.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pod {
    /// Spanned so that a duplicate id can be reported at its line.
    id: Spanned<PodId>,
    pub location: Label,
    pub aws_region: AwsRegion,
    /// Canonical first.
    pub login_urls: NonEmpty<HttpsUrl>,
    pub events_api: EventsApi,
    pub sftp: Sftp,
    pub s3: PodS3,
    /// Where the source page prints one of this pod's values wrongly.
    #[serde(default)]
    pub corrections: Vec<Correction>,
}

/// A value the source page prints wrongly: the value podmeta serves instead, what the
/// page prints, and why. The setup page shows it beside the value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// One of the pod's URLs or hosts, exactly as served.
    pub served: Note,
    /// What the source page prints instead.
    pub source_page: Note,
    pub why: Note,
}

/// A pod's Events API endpoints; each list is canonical first.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventsApi {
    pub events: NonEmpty<HttpsUrl>,
    pub bulkevents: NonEmpty<HttpsUrl>,
    pub bulkevents_historical: NonEmpty<HttpsUrl>,
}

/// A pod's SFTP server for file-based integrations.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sftp {
    pub hosts: NonEmpty<Hostname>,
    pub port: Port,
    pub ip: Ipv4,
}

/// What a pod's S3 forwarding needs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodS3 {
    /// `{arn1}` and `{arn2}` of the bucket-policy template, in that order.
    pub principals: [IamRoleArn; 2],
}

impl Pod {
    pub fn id(&self) -> &PodId {
        self.id.get_ref()
    }

    /// Every URL of the pod: its login URLs, then its Events API URLs.
    fn urls(&self) -> impl Iterator<Item = &HttpsUrl> {
        let api = &self.events_api;
        self.login_urls
            .iter()
            .chain(api.events.iter())
            .chain(api.bulkevents.iter())
            .chain(api.bulkevents_historical.iter())
    }

    /// Every URL and host of the pod: what a correction may be about.
    fn values(&self) -> impl Iterator<Item = &str> {
        self.urls().map(HttpsUrl::as_str).chain(self.hosts())
    }

    /// The correction of the served value `value`, if the source page prints it wrongly.
    pub fn correction(&self, value: &str) -> Option<&Correction> {
        self.corrections.iter().find(|c| c.served.as_str() == value)
    }

    /// The Events API base URLs (`https://s2s.eu1.mparticle.com/v2`), canonical first: each
    /// events URL without its `/events`, which loading checked every one ends in.
    pub fn events_api_bases(&self) -> Vec<&str> {
        self.events_api
            .events
            .iter()
            .map(|u| u.as_str().strip_suffix("/events").unwrap_or(u.as_str()))
            .collect()
    }

    /// Every host name the pod's entries name: login, Events API and SFTP.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.urls()
            .map(HttpsUrl::host)
            .chain(self.sftp.hosts.iter().map(Hostname::as_str))
    }
}

impl Table {
    /// Parses and validates a table. `name` is how the source is named in errors.
    pub fn from_toml(name: &str, text: &str) -> Result<Self, LoadError> {
        let error = |problems| LoadError {
            source: name.to_owned(),
            problems,
        };
        let invisible = invisible_characters(text);
        if !invisible.is_empty() {
            return Err(error(invisible));
        }
        let deserializer = toml::Deserializer::parse(text)
            .map_err(|e| error(vec![Problem::from_toml(text, None, &e)]))?;
        let file: TableFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let path = e.path().to_string();
            let path = (path != ".").then_some(path);
            error(vec![Problem::from_toml(text, path, e.inner())])
        })?;
        let problems = check(text, &file);
        if !problems.is_empty() {
            return Err(error(problems));
        }
        let index = file
            .pods
            .iter()
            .enumerate()
            .map(|(i, pod)| (pod.id().clone(), i))
            .collect();
        Ok(Self {
            file,
            index,
            source: name.to_owned(),
            version: format!("sha256:{}", crate::digest::sha256_hex(text.as_bytes())),
        })
    }

    /// Reads and loads a table file.
    /// A path that names a FIFO, a device or anything but a regular file is refused, and
    /// so is a file of more than [`MAX_TABLE_BYTES`]; neither can block or exhaust memory
    /// (`crate::input`).
    pub fn from_path(path: &Path) -> Result<Self, LoadError> {
        let name = path.display().to_string();
        let refused = |why: String| LoadError {
            source: name.clone(),
            problems: vec![Problem::plain(format!("cannot read the file: {why}"))],
        };
        let bytes =
            crate::input::read_file(path, MAX_TABLE_BYTES).map_err(|e| refused(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| refused("it is not UTF-8 text".into()))?;
        Self::from_toml(&name, &text)
    }

    /// The table compiled into the binary.
    pub fn builtin() -> Result<Self, LoadError> {
        Self::from_toml(BUILTIN_NAME, BUILTIN_TOML)
    }

    /// Where the table came from: a path, or the built-in name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The table's version: the SHA-256 of its file.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The pods, in the table's order.
    pub fn pods(&self) -> &[Pod] {
        &self.file.pods
    }

    /// The pod with this exact (canonical, lower-case) id.
    pub fn pod(&self, id: &str) -> Option<&Pod> {
        self.index.get(id).map(|&i| &self.file.pods[i])
    }

    /// The pod at a position that [`Table::position_ignoring_case`] gave.
    pub fn pod_at(&self, position: usize) -> &Pod {
        &self.file.pods[position]
    }

    /// The position of the pod whose id is `id` in any letter case (`EU1` finds `eu1`).
    pub fn position_ignoring_case(&self, id: &str) -> Option<usize> {
        // Ids are short ASCII; lower-casing into a stack buffer keeps the request path free
        // of allocation.
        let mut buf = [0u8; 16];
        let bytes = id.as_bytes();
        let lowered = buf.get_mut(..bytes.len())?;
        lowered.copy_from_slice(bytes);
        lowered.make_ascii_lowercase();
        let lowered = std::str::from_utf8(lowered).ok()?;
        self.index.get(lowered).copied()
    }

    pub fn ip_ranges_url(&self) -> &HttpsUrl {
        &self.file.ip_ranges_url
    }

    pub fn sdks_requiring_pod(&self) -> &NonEmpty<ServerSdk> {
        &self.file.sdks_requiring_pod
    }

    pub fn client_sdks(&self) -> &ClientSdkFacts {
        &self.file.client_sdks
    }

    /// The position of the pod of keys without a prefix (checked to exist at load).
    pub fn default_pod_position(&self) -> usize {
        self.index
            .get(self.file.default_pod.get_ref())
            .copied()
            .unwrap_or(0)
    }

    pub fn s3(&self) -> &S3Facts {
        &self.file.s3
    }

    pub fn rules(&self) -> &RulesFacts {
        &self.file.rules
    }
}

impl std::borrow::Borrow<str> for PodId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// The checks that span more than one value.
fn check(text: &str, file: &TableFile) -> Vec<Problem> {
    let mut problems = Vec::new();
    if file.pods.is_empty() {
        problems.push(Problem::plain(
            "the table has no pods: expected at least one [[pods]] entry".into(),
        ));
    }

    let rules = &file.rules;
    if !rules
        .example_function
        .as_str()
        .starts_with(rules.function_prefix.as_str())
    {
        problems.push(Problem::at_path(
            "rules.example_function",
            format!(
                "expected a function name beginning with {:?}, got {:?}",
                rules.function_prefix.as_str(),
                rules.example_function.as_str()
            ),
        ));
    }

    let default_pod = &file.default_pod;
    if !file.pods.iter().any(|p| p.id() == default_pod.get_ref()) {
        problems.push(Problem::at_span(
            text,
            "default_pod".into(),
            default_pod.span(),
            format!(
                "expected the id of a pod in this table, got {:?}",
                default_pod.get_ref().as_str()
            ),
        ));
    }

    let mut ids: HashMap<&PodId, usize> = HashMap::new();
    let mut hosts: HashMap<&str, &PodId> = HashMap::new();
    let mut ips: HashMap<Ipv4, &PodId> = HashMap::new();
    for (i, pod) in file.pods.iter().enumerate() {
        if let Some(first) = ids.insert(pod.id(), i) {
            problems.push(Problem::at_span(
                text,
                format!("pods[{i}].id"),
                pod.id.span(),
                format!(
                    "pod id {:?} is already used by pods[{first}]: expected each id once",
                    pod.id().as_str()
                ),
            ));
        }
        problems.extend(check_events_api(i, pod));
        for (j, correction) in pod.corrections.iter().enumerate() {
            let served = correction.served.as_str();
            if !pod.values().any(|v| v == served) {
                problems.push(Problem::at_path(
                    &format!("pods[{i}].corrections[{j}].served"),
                    format!("expected one of the pod's URLs or hosts, got {served:?}"),
                ));
            }
        }
        if pod.s3.principals[0] == pod.s3.principals[1] {
            problems.push(Problem::at_path(
                &format!("pods[{i}].s3.principals"),
                "expected two different principals, got the same one twice".into(),
            ));
        }
        // A host or IP that two pods claim would make "which pod is this?" ambiguous.
        for host in pod.hosts() {
            if let Some(owner) = hosts.insert(host, pod.id()).filter(|o| *o != pod.id()) {
                problems.push(Problem::at_path(
                    &format!("pods[{i}]"),
                    format!("host {host:?} is already listed by pod {owner}: expected each host in one pod"),
                ));
            }
        }
        if let Some(owner) = ips.insert(pod.sftp.ip, pod.id()) {
            problems.push(Problem::at_path(
                &format!("pods[{i}].sftp.ip"),
                format!(
                    "IP {} is already listed by pod {owner}: expected each IP in one pod",
                    pod.sftp.ip
                ),
            ));
        }
    }
    problems
}

/// Each Events API list names one base URL per host (canonical first) and appends its own
/// path; the three lists must agree, since SDK settings are derived from that base.
fn check_events_api(i: usize, pod: &Pod) -> Vec<Problem> {
    let api = &pod.events_api;
    let lists = [
        ("events", &api.events, "/events"),
        ("bulkevents", &api.bulkevents, "/bulkevents"),
        (
            "bulkevents_historical",
            &api.bulkevents_historical,
            "/bulkevents/historical",
        ),
    ];
    let mut problems = Vec::new();
    let bases = pod.events_api_bases();
    for (key, urls, suffix) in lists {
        for (j, url) in urls.iter().enumerate() {
            let path = format!("pods[{i}].events_api.{key}[{j}]");
            match url.as_str().strip_suffix(suffix) {
                None => problems.push(Problem::at_path(
                    &path,
                    format!("expected a URL ending in {suffix:?}, got {:?}", url.as_str()),
                )),
                Some(base) if bases.get(j) != Some(&base) => problems.push(Problem::at_path(
                    &path,
                    format!(
                        "expected the same base URLs, in the same order, as events_api.events ({}), got {:?}",
                        bases.join(", "),
                        url.as_str()
                    ),
                )),
                Some(_) => {}
            }
        }
        if urls.as_slice().len() != bases.len() {
            problems.push(Problem::at_path(
                &format!("pods[{i}].events_api.{key}"),
                format!("expected {} URLs, one per events URL", bases.len()),
            ));
        }
    }
    problems
}

/// Why a table was refused: every problem found, each with where it is.
#[derive(Debug)]
pub struct LoadError {
    source: String,
    problems: Vec<Problem>,
}

impl LoadError {
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

/// One problem in a table file.
#[derive(Debug)]
pub struct Problem {
    /// 1-based line and column, where the parser knows them.
    pub line_col: Option<(usize, usize)>,
    /// The key path, such as `pods[2].sftp.ip`.
    pub path: Option<String>,
    pub message: String,
    /// The offending line of the file, to quote under the message.
    pub quoted_line: Option<String>,
}

impl Problem {
    fn plain(message: String) -> Self {
        Self {
            line_col: None,
            path: None,
            message,
            quoted_line: None,
        }
    }

    fn at_path(path: &str, message: String) -> Self {
        Self {
            path: Some(path.to_owned()),
            ..Self::plain(message)
        }
    }

    fn at_span(text: &str, path: String, span: std::ops::Range<usize>, message: String) -> Self {
        let (line, col) = line_col(text, span.start);
        Self {
            line_col: Some((line, col)),
            path: Some(path),
            message,
            quoted_line: text.lines().nth(line - 1).map(str::to_owned),
        }
    }

    fn from_toml(text: &str, path: Option<String>, e: &toml::de::Error) -> Self {
        // The parser's messages end with a newline of their own.
        let message = e.message().trim_end().to_owned();
        match e.span() {
            Some(span) => Self::at_span(text, path.unwrap_or_default(), span, message),
            None => Self {
                path,
                ..Self::plain(message)
            },
        }
    }
}

/// Whether `c` is invisible or changes the direction of the text around it: Unicode's
/// format characters (general category Cf), which include every bidirectional control
/// (U+202A to U+202E, U+2066 to U+2069, U+200E, U+200F, U+061C) and the zero-width ones
/// (U+200B to U+200D, U+2060, U+FEFF). The table's text is shown to people, on the setup
/// page and in documents they paste: it must read as what it is.
fn is_invisible(c: char) -> bool {
    matches!(u32::from(c),
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// The most invisible characters reported one by one; the rest are counted.
const MOST_INVISIBLE_REPORTED: usize = 20;

/// A problem for each invisible or direction-changing character of `text`, at its line
/// and column, with the line quoted so that it shows (`<U+202E>`). A byte-order mark
/// that begins the file is not text and is let through.
fn invisible_characters(text: &str) -> Vec<Problem> {
    let found: Vec<(usize, char)> = text
        .char_indices()
        .filter(|&(i, c)| is_invisible(c) && !(i == 0 && c == '\u{FEFF}'))
        .collect();
    let mut problems: Vec<Problem> = found
        .iter()
        .take(MOST_INVISIBLE_REPORTED)
        .map(|&(offset, c)| {
            let (line, col) = line_col(text, offset);
            let shown: String = text
                .lines()
                .nth(line - 1)
                .unwrap_or_default()
                .chars()
                .map(|c| match is_invisible(c) {
                    true => format!("<U+{:04X}>", u32::from(c)),
                    false => c.to_string(),
                })
                .collect();
            Problem {
                line_col: Some((line, col)),
                path: None,
                message: format!(
                    "an invisible or direction-changing character, U+{:04X}: the table's text is shown to people and must read as what it is; remove it",
                    u32::from(c)
                ),
                quoted_line: Some(shown),
            }
        })
        .collect();
    if found.len() > MOST_INVISIBLE_REPORTED {
        problems.push(Problem::plain(format!(
            "and {} more invisible or direction-changing characters",
            found.len() - MOST_INVISIBLE_REPORTED
        )));
    }
    problems
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl fmt::Display for LoadError {
    /// One block per problem, compiler-style: `file:line:col: key.path: message`, then
    /// the line quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, p) in self.problems.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.source)?;
            if let Some((line, col)) = p.line_col {
                write!(f, ":{line}:{col}")?;
            }
            match &p.path {
                Some(path) if !path.is_empty() => write!(f, ": {path}: {}", p.message)?,
                _ => write!(f, ": {}", p.message)?,
            }
            if let (Some((line, _)), Some(quoted)) = (p.line_col, &p.quoted_line) {
                write!(f, "\n  {line:>4} | {quoted}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_direction_changing_characters_are_refused_at_their_line_and_column() {
        for (sneaked, code) in [
            ("United \u{202E}setatS", "U+202E"),
            ("United\u{200B} States", "U+200B"),
            ("\u{2066}United States\u{2069}", "U+2066"),
            ("United States\u{00AD}", "U+00AD"),
        ] {
            let text = BUILTIN_TOML.replacen("\"United States\"", &format!("\"{sneaked}\""), 1);
            let err = Table::from_toml("t.toml", &text).unwrap_err();
            let first = &err.problems[0];
            let line = BUILTIN_TOML
                .lines()
                .position(|l| l.contains("\"United States\""))
                .unwrap()
                + 1;
            assert_eq!(first.line_col.map(|(l, _)| l), Some(line), "{sneaked:?}");
            assert!(first.message.contains(code), "{}", first.message);
            // The quoted line shows the character rather than obeying it.
            let quoted = first.quoted_line.as_deref().unwrap();
            assert!(quoted.contains(&format!("<{code}>")), "{quoted}");
            assert!(!quoted.chars().any(is_invisible), "{quoted:?}");
        }
        // Text of other scripts is text.
        let text = BUILTIN_TOML.replacen("\"United States\"", "\"São Paulo, 東京\"", 1);
        assert!(Table::from_toml("t.toml", &text).is_ok());
        // A byte-order mark that begins the file is not text.
        assert!(Table::from_toml("t.toml", &format!("\u{FEFF}{BUILTIN_TOML}")).is_ok());
    }

    fn load(text: &str) -> Result<Table, LoadError> {
        Table::from_toml("pods.toml", text)
    }

    /// The compiled-in table with one substitution, which must apply.
    fn edited(from: &str, to: &str) -> String {
        assert!(BUILTIN_TOML.contains(from), "the table has no {from:?}");
        BUILTIN_TOML.replacen(from, to, 1)
    }

    fn error_of(text: &str) -> String {
        load(text)
            .expect_err("the table should be refused")
            .to_string()
    }

    #[test]
    fn the_builtin_table_loads_with_four_pods_in_the_page_order() {
        let table = Table::builtin().unwrap();
        let ids: Vec<&str> = table.pods().iter().map(|p| p.id().as_str()).collect();
        assert_eq!(ids, ["us1", "us2", "eu1", "au1"]);
    }

    #[test]
    fn pods_are_found_by_id_in_any_case() {
        let table = Table::builtin().unwrap();
        assert_eq!(table.position_ignoring_case("EU1"), Some(2));
        assert_eq!(table.position_ignoring_case("eu1"), Some(2));
        assert_eq!(table.position_ignoring_case("eu9"), None);
        assert_eq!(table.position_ignoring_case(&"e".repeat(100)), None);
        assert!(table.pod("au1").is_some());
    }

    #[test]
    fn an_invalid_value_is_reported_with_file_line_key_path_and_expectation() {
        let err = error_of(&edited("\"18.157.92.224\"", "\"18.157.92\""));
        let line = BUILTIN_TOML
            .lines()
            .position(|l| l.contains("18.157.92.224"))
            .unwrap()
            + 1;
        assert!(
            err.starts_with(&format!("pods.toml:{line}:")),
            "no file and line in: {err}"
        );
        assert!(err.contains("pods[2].sftp.ip"), "no key path in: {err}");
        assert!(err.contains("expected an IPv4 address"), "{err}");
        assert!(err.contains("\"18.157.92\""), "no bad value in: {err}");
    }

    #[test]
    fn a_correction_must_be_about_a_value_the_pod_serves() {
        let us2 = Table::builtin().unwrap();
        let us2 = us2.pod("us2").unwrap();
        let correction = us2
            .correction("https://s2s.us2.mparticle.com/v2/bulkevents")
            .expect("the US2 typo is recorded");
        assert_eq!(
            correction.source_page.as_str(),
            "https://s2s.us2.mparticle.com/v2/bulkevent"
        );
        let err = error_of(&edited(
            "served = \"https://s2s.us2.mparticle.com/v2/bulkevents\"",
            "served = \"https://s2s.eu1.mparticle.com/v2/bulkevents\"",
        ));
        assert!(err.contains("pods[1].corrections[0].served"), "{err}");
        assert!(
            err.contains("expected one of the pod's URLs or hosts"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = error_of(&edited("port = 4422", "port = 4422\nprot = 4422"));
        assert!(err.contains("unknown field `prot`"), "{err}");
        assert!(err.contains("pods[0].sftp"), "{err}");
    }

    #[test]
    fn a_missing_key_is_named() {
        let err = error_of(&edited("ip = \"52.45.156.86\"\n", ""));
        assert!(err.contains("missing field `ip`"), "{err}");
    }

    #[test]
    fn duplicate_pod_ids_are_refused_at_the_second_ones_line() {
        let err = error_of(&edited("id = \"us2\"", "id = \"us1\""));
        assert!(err.contains("pods[1].id"), "{err}");
        assert!(err.contains("already used by pods[0]"), "{err}");
        let line = BUILTIN_TOML
            .lines()
            .position(|l| l == "id = \"us2\"")
            .unwrap()
            + 1;
        assert!(err.starts_with(&format!("pods.toml:{line}:")), "{err}");
    }

    #[test]
    fn an_empty_table_is_refused() {
        let head = BUILTIN_TOML.split("[[pods]]").next().unwrap();
        assert!(error_of(head).contains("the table has no pods"));
        assert!(error_of(&format!("pods = []\n{head}")).contains("the table has no pods"));
    }

    #[test]
    fn every_kind_of_invalid_value_is_refused() {
        for (from, to) in [
            ("id = \"eu1\"", "id = \"EU1\""),
            (
                "\"https://app.eu1.mparticle.com\"",
                "\"http://app.eu1.mparticle.com\"",
            ),
            ("\"sftp.eu1.mparticle.com\"", "\"sftp eu1\""),
            ("port = 4422\nip = \"18", "port = 0\nip = \"18"),
            ("\"eu-central-1\"", "\"Frankfurt\""),
            ("\"999999999999\"", "\"9999\""),
            (
                "arn:aws:iam::583371261087:role/verifyrequest_lambda",
                "arn:aws:iam::583371261087:user/x",
            ),
            (
                "login_urls = [\"https://app.au1.mparticle.com\"]",
                "login_urls = []",
            ),
            ("\"$LATEST\"]", "\"LATEST!\"]"),
        ] {
            let err = load(&edited(from, to)).err();
            assert!(err.is_some(), "accepted {to:?}");
        }
    }

    #[test]
    fn the_us2_typo_of_the_source_page_is_refused() {
        let err = error_of(&edited(
            "https://s2s.us2.mparticle.com/v2/bulkevents\"",
            "https://s2s.us2.mparticle.com/v2/bulkevent\"",
        ));
        assert!(err.contains("pods[1].events_api.bulkevents[0]"), "{err}");
        assert!(err.contains("ending in \"/bulkevents\""), "{err}");
    }

    #[test]
    fn events_api_lists_must_share_their_base_urls() {
        let err = error_of(&edited(
            "https://s2s.eu1.mparticle.com/v2/bulkevents\"",
            "https://s2s.au1.mparticle.com/v2/bulkevents\"",
        ));
        assert!(err.contains("same base URLs"), "{err}");
    }

    #[test]
    fn a_host_or_ip_claimed_by_two_pods_is_refused() {
        let err = error_of(&edited(
            "\"sftp.us2.mparticle.com\"",
            "\"sftp.us1.mparticle.com\"",
        ));
        assert!(err.contains("already listed by pod us1"), "{err}");
        let err = error_of(&edited("\"52.45.156.86\"", "\"34.199.76.170\""));
        assert!(err.contains("pods[1].sftp.ip"), "{err}");
    }

    #[test]
    fn a_toml_syntax_error_is_reported_with_its_line() {
        let err = error_of("ip_ranges_url = \"https://x.com\"\nsdks_requiring_pod = [\n");
        assert!(err.starts_with("pods.toml:"), "{err}");
        assert!(err.contains(":2:") || err.contains(":3:"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let text = edited("id = \"us2\"", "id = \"us1\"");
        let text = text.replacen("\"mprmylambdafunction\"", "\"mylambda\"", 1);
        assert_eq!(
            load(&text).unwrap_err().problems().len(),
            2,
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn an_sdk_podmeta_has_no_settings_for_is_refused() {
        let err = error_of(&edited("\"Ruby\"]", "\"Rust\"]"));
        assert!(err.contains("sdks_requiring_pod[4]"), "{err}");
        assert!(err.contains("Go, Java, Node, Python or Ruby"), "{err}");
    }

    #[test]
    fn the_default_pod_must_be_in_the_table() {
        let err = error_of(&edited("default_pod = \"us1\"", "default_pod = \"us9\""));
        assert!(
            err.contains("default_pod: expected the id of a pod in this table"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Table::from_path(Path::new("/nonexistent/pods.toml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/pods.toml: cannot read"),
            "{err}"
        );
    }
}
