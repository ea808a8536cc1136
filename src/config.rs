//! Configuration: the defaults file embedded in the binary, then an optional TOML file, then `SWITCHBOARD_*`
//! environment variables, then command-line flags. Validated once at start; unknown keys are rejected.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;
use toml::Value;

/// The embedded defaults, which also document every key.
pub const DEFAULTS: &str = include_str!("../config.default.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub site_url: String,
    pub body_limit: usize,
    pub sqlite_synchronous: String,
    pub admin_username: String,
    pub admin_password: String,
    pub admin_email: String,
    pub login_expiration_days: i64,
    pub log: String,
    pub realtime: RealtimeConfig,
    pub scripts: ScriptsConfig,
    pub egress: EgressConfig,
    pub hooks: HooksConfig,
    pub outgoing: OutgoingConfig,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutgoingConfig {
    pub concurrency: usize,
    pub poll_ms: u64,
    pub lease_secs: u64,
    pub history_days: u64,
    pub retry_delay_percent: u64,
    pub reload_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptsConfig {
    pub timeout_ms: u64,
    pub memory_limit_mb: usize,
    pub threads: usize,
    pub max_threads: usize,
    pub disabled: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressConfig {
    pub allow_private_networks: bool,
    pub allowed_cidrs: Vec<String>,
    pub timeout_ms: u64,
    pub max_body_bytes: usize,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HooksConfig {
    pub history_size: i64,
    pub rate_limit_per_minute: u64,
    pub rate_limit_burst: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealtimeConfig {
    pub ping_after_secs: u64,
    pub close_after_secs: u64,
}

/// Environment variables named in the docs that do not follow the generic `SWITCHBOARD_<KEY>` rule.
const ENV_ALIASES: &[(&str, &str)] = &[(
    "SWITCHBOARD_ALLOW_PRIVATE_NETWORKS",
    "egress.allow_private_networks",
)];

impl Config {
    /// Builds the configuration from every layer. `overrides` are the command-line flags, as dotted keys.
    pub fn load(
        file: Option<&Path>,
        env: &HashMap<String, String>,
        overrides: &[(&str, String)],
    ) -> anyhow::Result<Config> {
        let mut root: Value = toml::from_str(DEFAULTS).context("embedded defaults")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let layer: Value =
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            merge(&mut root, layer);
        }
        let mut keys: Vec<(&String, &String)> = env
            .iter()
            .filter(|(k, _)| k.starts_with("SWITCHBOARD_"))
            .collect();
        keys.sort();
        for (name, value) in keys {
            let path = match ENV_ALIASES.iter().find(|(n, _)| n == name) {
                Some((_, p)) => p.to_string(),
                None => name["SWITCHBOARD_".len()..]
                    .to_ascii_lowercase()
                    .replace("__", "."),
            };
            set_path(&mut root, &path, value)
                .with_context(|| format!("environment variable {name}"))?;
        }
        for (path, value) in overrides {
            set_path(&mut root, path, value)?;
        }
        let cfg: Config = root.try_into().context("invalid configuration")?;
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.listen
            .parse::<SocketAddr>()
            .with_context(|| format!("listen: not an address:port: {}", self.listen))?;
        if !self.database_url.is_empty()
            && !["sqlite:", "postgres://", "postgresql://"]
                .iter()
                .any(|p| self.database_url.starts_with(p))
        {
            bail!("database_url must start with sqlite:// or postgres://");
        }
        if self.body_limit < 1024 {
            bail!("body_limit must be at least 1024 bytes");
        }
        if self.scripts.timeout_ms == 0
            || self.scripts.memory_limit_mb == 0
            || self.scripts.threads == 0
        {
            bail!(
                "scripts.timeout_ms, scripts.memory_limit_mb and scripts.threads must be positive"
            );
        }
        crate::egress::EgressPolicy::parse_cidr_list(&self.egress.allowed_cidrs.join(","))
            .map_err(|e| anyhow::anyhow!("egress.allowed_cidrs: {e}"))?;
        Ok(())
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!(
                "sqlite://{}",
                self.data_dir.join("switchboard.db").display()
            )
        } else {
            self.database_url.clone()
        }
    }

    /// The public base URL without a trailing slash.
    pub fn site_url(&self, bound: Option<SocketAddr>) -> String {
        if self.site_url.is_empty() {
            format!(
                "http://{}",
                bound
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| self.listen.clone())
            )
        } else {
            self.site_url.trim_end_matches('/').to_string()
        }
    }
}

fn merge(base: &mut Value, layer: Value) {
    match (base, layer) {
        (Value::Table(b), Value::Table(l)) => {
            for (k, v) in l {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_table() && v.is_table() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, l) => *b = l,
    }
}

/// Sets a dotted key from a string, coerced to the type the defaults give that key.
fn set_path(root: &mut Value, path: &str, raw: &str) -> anyhow::Result<()> {
    let mut cur = root;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        cur = cur
            .get_mut(*p)
            .filter(|v| v.is_table())
            .with_context(|| format!("unknown configuration section `{p}`"))?;
    }
    let last = parts[parts.len() - 1];
    let table = cur.as_table_mut().context("not a table")?;
    let existing = table
        .get(last)
        .with_context(|| format!("unknown configuration key `{path}`"))?;
    let value = match existing {
        Value::Boolean(_) => Value::Boolean(match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" | "" => false,
            _ => bail!("`{path}` must be true or false, not {raw:?}"),
        }),
        Value::Integer(_) => Value::Integer(
            raw.trim()
                .parse()
                .with_context(|| format!("`{path}` must be an integer"))?,
        ),
        Value::Array(_) => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
        _ => Value::String(raw.to_string()),
    };
    table.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = std::env::temp_dir().join(format!("sb-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:4000\"\nsite_url = \"https://file\"\n[realtime]\nping_after_secs = 3\n").unwrap();
        let env: HashMap<String, String> = [
            (
                "SWITCHBOARD_SITE_URL".to_string(),
                "https://env/".to_string(),
            ),
            (
                "SWITCHBOARD_REALTIME__CLOSE_AFTER_SECS".to_string(),
                "7".to_string(),
            ),
        ]
        .into();
        let cfg = Config::load(Some(&file), &env, &[("data_dir", "/tmp/x".into())]);
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = cfg.unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:4000");
        assert_eq!(cfg.site_url(None), "https://env");
        assert_eq!(cfg.realtime.ping_after_secs, 3);
        assert_eq!(cfg.realtime.close_after_secs, 7);
        assert_eq!(cfg.database_url(), "sqlite:///tmp/x/switchboard.db");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        let env: HashMap<String, String> =
            [("SWITCHBOARD_NO_SUCH_KEY".to_string(), "1".to_string())].into();
        assert!(Config::load(None, &env, &[]).is_err());
        let env: HashMap<String, String> =
            [("SWITCHBOARD_BODY_LIMIT".to_string(), "lots".to_string())].into();
        assert!(Config::load(None, &env, &[]).is_err());
        let env: HashMap<String, String> =
            [("SWITCHBOARD_LISTEN".to_string(), "nowhere".to_string())].into();
        assert!(Config::load(None, &env, &[]).is_err());
    }
}
