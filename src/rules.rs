//! The Lambda ARN builder's input: three query parameters, each checked against every rule
//! that applies to it, with every broken rule reported at once.

use crate::domain::Violation;
use crate::domain::{
    AccountId, LAMBDA_NAME_MAX, LambdaAlias, LambdaFunctionName, is_lambda_name_byte,
};
use crate::table::RulesFacts;

/// The valid input of `GET /pods/{pod}/rules/lambda-arn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaArnParams {
    pub account_id: AccountId,
    pub function: LambdaFunctionName,
    pub alias: LambdaAlias,
}

/// Why the query string is not a valid set of the three parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamsError {
    /// A parameter that is not one of the three (a 400).
    Unknown(String),
    /// One of the three, given twice (a 400).
    Repeated(&'static str),
    /// Every rule the values break, missing ones included (a 422).
    Broken(Vec<Violation>),
}

const PARAMETERS: [&str; 3] = ["account_id", "function", "alias"];

impl LambdaArnParams {
    /// Checks the query string's decoded pairs.
    pub fn parse(pairs: &[(String, String)], facts: &RulesFacts) -> Result<Self, ParamsError> {
        let mut values: [Option<&str>; 3] = [None; 3];
        for (name, value) in pairs {
            let i = PARAMETERS
                .iter()
                .position(|p| p == name)
                .ok_or_else(|| ParamsError::Unknown(name.clone()))?;
            if values[i].replace(value).is_some() {
                return Err(ParamsError::Repeated(PARAMETERS[i]));
            }
        }
        let [account_id, function, alias] = values;
        let mut broken = Vec::new();
        let mut rule = |parameter: &str, rule: &str, detail: String| {
            broken.push(Violation::parameter(parameter, rule, detail));
        };

        let account_id = match account_id {
            None => {
                rule("account_id", "required", "account_id is required".into());
                None
            }
            Some(v) => v.parse::<AccountId>().ok().or_else(|| {
                rule(
                    "account_id",
                    "twelve-digits",
                    "account_id must be exactly 12 digits".into(),
                );
                None
            }),
        };

        let prefix = facts.function_prefix.as_str();
        let function = match function {
            None => {
                rule("function", "required", "function is required".into());
                None
            }
            Some(v) => {
                let mut ok = true;
                if !v.starts_with(prefix) {
                    rule(
                        "function",
                        "prefix",
                        format!("function must begin with '{prefix}'"),
                    );
                    ok = false;
                }
                if !v.bytes().all(is_lambda_name_byte) {
                    rule(
                        "function",
                        "characters",
                        "function may contain only letters, digits, '-' and '_'".into(),
                    );
                    ok = false;
                }
                if v.len() > LAMBDA_NAME_MAX {
                    rule(
                        "function",
                        "length",
                        format!("function must be at most {LAMBDA_NAME_MAX} characters long"),
                    );
                    ok = false;
                }
                // The prefix rule already refuses an empty name, so the three rules above
                // are all the type checks.
                ok.then(|| v.parse::<LambdaFunctionName>().ok()).flatten()
            }
        };

        let alias = match alias {
            None => {
                rule("alias", "required", "alias is required".into());
                None
            }
            Some(v) => facts
                .aliases
                .iter()
                .find(|a| a.as_str() == v)
                .cloned()
                .or_else(|| {
                    let allowed: Vec<&str> =
                        facts.aliases.iter().map(LambdaAlias::as_str).collect();
                    rule(
                        "alias",
                        "alias",
                        format!("alias must be one of: {}", allowed.join(", ")),
                    );
                    None
                }),
        };

        match (account_id, function, alias) {
            (Some(account_id), Some(function), Some(alias)) if broken.is_empty() => Ok(Self {
                account_id,
                function,
                alias,
            }),
            _ => Err(ParamsError::Broken(broken)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Table;

    fn check(query: &[(&str, &str)]) -> Result<LambdaArnParams, ParamsError> {
        let table = Table::builtin().unwrap();
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        LambdaArnParams::parse(&pairs, table.rules())
    }

    /// The (parameter, rule) of each violation, in order.
    fn broken(query: &[(&str, &str)]) -> Vec<(String, String)> {
        match check(query) {
            Err(ParamsError::Broken(violations)) => violations
                .into_iter()
                .map(|v| match v.location {
                    crate::domain::FieldLocation::Parameter(p) => (p, v.rule),
                    other => panic!("a query parameter's rule at {other:?}"),
                })
                .collect(),
            other => panic!("expected broken rules, got {other:?}"),
        }
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(p, r)| (p.to_string(), r.to_string()))
            .collect()
    }

    const GOOD: [(&str, &str); 3] = [
        ("account_id", "123456789012"),
        ("function", "mprmyfunction"),
        ("alias", "PROD"),
    ];

    fn with(name: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
        GOOD.iter()
            .map(|&(n, v)| if n == name { (n, value) } else { (n, v) })
            .collect()
    }

    #[test]
    fn three_valid_parameters_are_accepted() {
        let params = check(&GOOD).unwrap();
        assert_eq!(params.function.as_str(), "mprmyfunction");
        assert!(check(&with("alias", "$LATEST")).is_ok());
        assert!(check(&with("function", "mpr")).is_ok());
        assert!(check(&with("function", "mpr-a_B9")).is_ok());
    }

    #[test]
    fn the_account_id_is_exactly_twelve_digits() {
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            let query = GOOD
                .iter()
                .map(|&(n, v)| (n, if n == "account_id" { bad } else { v }))
                .collect::<Vec<_>>();
            assert_eq!(
                broken(&query),
                pairs(&[("account_id", "twelve-digits")]),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_function_begins_with_mpr_uses_letters_digits_dash_underscore_and_is_at_most_64() {
        assert_eq!(
            broken(&with("function", "myfunction")),
            pairs(&[("function", "prefix")])
        );
        assert_eq!(
            broken(&with("function", "mpr.fn")),
            pairs(&[("function", "characters")])
        );
        assert_eq!(
            broken(&with("function", "")),
            pairs(&[("function", "prefix")])
        );
        let long: &'static str = Box::leak(format!("mpr{}", "a".repeat(62)).into_boxed_str());
        assert_eq!(
            broken(&with("function", long)),
            pairs(&[("function", "length")])
        );
        let ok: &'static str = Box::leak(format!("mpr{}", "a".repeat(61)).into_boxed_str());
        assert!(check(&with("function", ok)).is_ok());
        assert_eq!(
            broken(&with("function", "fn.x")),
            pairs(&[("function", "prefix"), ("function", "characters")])
        );
    }

    #[test]
    fn the_alias_is_prod_or_latest() {
        for bad in ["prod", "LATEST", "$latest", "DEV", ""] {
            let query = GOOD
                .iter()
                .map(|&(n, v)| (n, if n == "alias" { bad } else { v }))
                .collect::<Vec<_>>();
            assert_eq!(broken(&query), pairs(&[("alias", "alias")]), "{bad:?}");
        }
    }

    #[test]
    fn all_three_are_required_and_every_missing_one_is_named() {
        assert_eq!(
            broken(&[]),
            pairs(&[
                ("account_id", "required"),
                ("function", "required"),
                ("alias", "required")
            ])
        );
        assert_eq!(broken(&GOOD[..2]), pairs(&[("alias", "required")]));
    }

    #[test]
    fn unknown_or_repeated_parameters_are_not_a_set_of_the_three() {
        assert_eq!(
            check(&[("acount_id", "123456789012")]).unwrap_err(),
            ParamsError::Unknown("acount_id".into())
        );
        let mut twice = GOOD.to_vec();
        twice.push(("alias", "PROD"));
        assert_eq!(check(&twice).unwrap_err(), ParamsError::Repeated("alias"));
    }
}
