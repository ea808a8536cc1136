//! Reactions: toggling a user's emoji reaction on a message (`setReaction`), stored in the message document
//! as Rocket.Chat does — `reactions: {":emoji:": {"usernames": [...]}}` — and re-broadcast so that stream
//! subscribers see the new map.

use serde_json::{json, Map, Value};

use super::Chat;
use crate::error::{Error, Result};
use crate::model::User;
use crate::util::now_ms;

/// `thumbsup`, `:thumbsup:` → `:thumbsup:`; `None` for anything that is not a plausible emoji name.
pub fn normalize_emoji(emoji: &str) -> Option<String> {
    let name = emoji.trim().trim_matches(':');
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_+-".contains(c));
    ok.then(|| format!(":{name}:"))
}

impl Chat {
    /// Adds or removes `user`'s `emoji` on message `msg_id`. `should_react` forces the direction (Rocket.Chat's
    /// third `setReaction` parameter); `None` toggles.
    pub async fn set_reaction(
        &self,
        user: &User,
        msg_id: &str,
        emoji: &str,
        should_react: Option<bool>,
    ) -> Result<()> {
        let emoji = normalize_emoji(emoji)
            .ok_or_else(|| Error::meteor("error-not-allowed", "Invalid emoji provided."))?;
        let mut m = self
            .store
            .message_by_id(msg_id)
            .await?
            .ok_or_else(Error::not_allowed)?;
        let room = self
            .store
            .room_by_id(&m.rid)
            .await?
            .ok_or_else(Error::not_allowed)?;
        if !self.can_access(user, &room).await? {
            return Err(Error::not_allowed());
        }
        let mut reactions: Map<String, Value> = m
            .extra
            .get("reactions")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut usernames: Vec<Value> = reactions
            .get(&emoji)
            .and_then(|r| r.get("usernames"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let has = usernames.iter().any(|u| u.as_str() == Some(&user.username));
        let react = should_react.unwrap_or(!has);
        if react == has {
            return Ok(());
        }
        if react {
            usernames.push(json!(user.username));
        } else {
            usernames.retain(|u| u.as_str() != Some(&user.username));
        }
        if usernames.is_empty() {
            reactions.remove(&emoji);
        } else {
            reactions.insert(emoji, json!({ "usernames": usernames }));
        }
        if reactions.is_empty() {
            m.extra.remove("reactions");
        } else {
            m.extra.insert("reactions".into(), Value::Object(reactions));
        }
        m.updated_at = now_ms();
        self.store.update_message(&m).await?;
        self.publish_message(&room, &m);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_names() {
        assert_eq!(normalize_emoji(":thumbsup:").as_deref(), Some(":thumbsup:"));
        assert_eq!(normalize_emoji("+1").as_deref(), Some(":+1:"));
        assert_eq!(normalize_emoji("::"), None);
        assert_eq!(normalize_emoji(":a b:"), None);
    }
}
