//! How each server SDK is pointed at a pod, and the client-SDK hosts of direct URL routing.
//!
//! The table says which SDKs need the pod; this module holds what is true of each SDK
//! whatever the pod: which setting to change, what form its value takes, and a snippet to
//! paste (from `mparticle-facts.md`, "How each server SDK is pointed at a pod").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::{Hostname, InvalidValue, PodId};

/// A server SDK that must be told its pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSdk {
    Go,
    Java,
    Node,
    Python,
    Ruby,
}

impl ServerSdk {
    const ALL: [ServerSdk; 5] = [Self::Go, Self::Java, Self::Node, Self::Python, Self::Ruby];

    pub fn name(self) -> &'static str {
        match self {
            Self::Go => "Go",
            Self::Java => "Java",
            Self::Node => "Node",
            Self::Python => "Python",
            Self::Ruby => "Ruby",
        }
    }

    /// The setting that selects the pod, as the SDK names it.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Go => "Configuration.BasePath",
            Self::Java => "Retrofit baseUrl(...) passed through ApiClient.setAdapterBuilder",
            Self::Node => "ApiClient.basePath",
            Self::Python => "configuration.host",
            Self::Ruby => "config.host",
        }
    }

    /// The setting's value for an Events API base URL such as
    /// `https://s2s.eu1.mparticle.com/v2`: Java's Retrofit needs a final `/`, Ruby takes
    /// the host alone (its scheme and base path are separate settings).
    pub fn value(self, base_url: &str) -> String {
        match self {
            Self::Java => format!("{base_url}/"),
            Self::Ruby => {
                let rest = base_url.strip_prefix("https://").unwrap_or(base_url);
                rest.split('/').next().unwrap_or(rest).to_owned()
            }
            Self::Go | Self::Node | Self::Python => base_url.to_owned(),
        }
    }

    /// Code to paste, in the SDK's language, that sets `value`.
    pub fn snippet(self, value: &str) -> String {
        match self {
            Self::Go => format!(
                "cfg := events.NewConfiguration()\n\
                 cfg.BasePath = \"{value}\"\n\
                 client := events.NewAPIClient(cfg)\n"
            ),
            Self::Java => format!(
                "ApiClient apiClient = new ApiClient(\"REPLACE WITH API KEY\", \"REPLACE WITH API SECRET\");\n\
                 apiClient.setAdapterBuilder(apiClient.getAdapterBuilder().baseUrl(\"{value}\"));\n\
                 EventsApi api = apiClient.createService(EventsApi.class);\n"
            ),
            Self::Node => format!(
                "const mParticle = require('mparticle');\n\
                 const apiClient = new mParticle.ApiClient();\n\
                 apiClient.basePath = '{value}';\n\
                 const api = new mParticle.EventsApi(\n  \
                   new mParticle.Configuration('REPLACE WITH API KEY', 'REPLACE WITH API SECRET'),\n  \
                   apiClient\n\
                 );\n"
            ),
            Self::Python => format!(
                "import mparticle\n\
                 configuration = mparticle.Configuration()\n\
                 configuration.api_key = 'REPLACE WITH API KEY'\n\
                 configuration.api_secret = 'REPLACE WITH API SECRET'\n\
                 configuration.host = '{value}'\n\
                 api_instance = mparticle.EventsApi(configuration)\n"
            ),
            Self::Ruby => format!(
                "config = MParticle::Configuration.new\n\
                 config.api_key = 'REPLACE WITH API KEY'\n\
                 config.api_secret = 'REPLACE WITH API SECRET'\n\
                 config.host = '{value}'\n\
                 api_instance = MParticle::EventsApi.new(config)\n"
            ),
        }
    }
}

impl FromStr for ServerSdk {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|sdk| sdk.name() == s)
            .ok_or_else(|| {
                InvalidValue::new(
                    "a server SDK podmeta knows: Go, Java, Node, Python or Ruby",
                    s,
                )
            })
    }
}

impl fmt::Display for ServerSdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ServerSdk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ServerSdk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The host a client SDK with direct URL routing uses for a pod: the pod inserted after
/// the default host's first label (`jssdks.mparticle.com` → `jssdks.eu1.mparticle.com`).
pub fn direct_routing_host(default_host: &Hostname, pod: &PodId) -> String {
    match default_host.as_str().split_once('.') {
        Some((label, rest)) => format!("{label}.{pod}.{rest}"),
        // A Hostname always has two labels or more; this arm only keeps the match total.
        None => default_host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EU1: &str = "https://s2s.eu1.mparticle.com/v2";

    #[test]
    fn each_sdk_takes_the_value_form_the_facts_give() {
        assert_eq!(
            ServerSdk::Python.value(EU1),
            "https://s2s.eu1.mparticle.com/v2"
        );
        assert_eq!(
            ServerSdk::Java.value(EU1),
            "https://s2s.eu1.mparticle.com/v2/"
        );
        assert_eq!(ServerSdk::Go.value(EU1), "https://s2s.eu1.mparticle.com/v2");
        assert_eq!(ServerSdk::Ruby.value(EU1), "s2s.eu1.mparticle.com");
        assert_eq!(
            ServerSdk::Node.value(EU1),
            "https://s2s.eu1.mparticle.com/v2"
        );
    }

    #[test]
    fn each_snippet_sets_the_named_setting_to_the_value() {
        for sdk in ServerSdk::ALL {
            let value = sdk.value(EU1);
            let snippet = sdk.snippet(&value);
            assert!(
                snippet.contains(&format!("'{value}'"))
                    || snippet.contains(&format!("\"{value}\"")),
                "{sdk}: {snippet}"
            );
            let setting_word = match sdk {
                ServerSdk::Java => "setAdapterBuilder",
                other => other.setting().rsplit('.').next().unwrap(),
            };
            assert!(snippet.contains(setting_word), "{sdk}: {snippet}");
        }
    }

    #[test]
    fn sdk_names_parse_exactly() {
        assert_eq!("Ruby".parse::<ServerSdk>().unwrap(), ServerSdk::Ruby);
        assert!("ruby".parse::<ServerSdk>().is_err());
        assert!("Rust".parse::<ServerSdk>().is_err());
    }

    #[test]
    fn direct_routing_inserts_the_pod_after_the_first_label() {
        let host: Hostname = "jssdks.mparticle.com".parse().unwrap();
        assert_eq!(
            direct_routing_host(&host, &"eu1".parse().unwrap()),
            "jssdks.eu1.mparticle.com"
        );
    }
}
