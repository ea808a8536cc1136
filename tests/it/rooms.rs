//! Channels, private groups and direct messages: creation, membership, access rules, history,
//! `rooms.get` and `subscriptions.get`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::harness::TestServer;

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["_id"].as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn general_is_seeded(s: TestServer) {
        let (st, v) = s.get(Some(&s.admin), "/api/v1/channels.info", &[("roomName", "general")]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["channel"]["_id"], "GENERAL");
        assert_eq!(v["channel"]["t"], "c");
        assert_eq!(v["channel"]["default"], true);
        let (st, v) = s.get(Some(&s.admin), "/api/v1/users.info", &[("username", "rocket.cat")]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["user"]["type"], "bot");
        s.stop().await;
    }

    async fn channel_lifecycle(s: TestServer) {
        let alice = s.user("alice").await;
        let bob = s.user("bob").await;
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.create", json!({ "name": "dev", "members": ["bob", "nobody"] })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let room = v["channel"].clone();
        let rid = room["_id"].as_str().unwrap().to_string();
        assert_eq!(rid.len(), 17);
        assert_eq!(room["name"], "dev");
        assert_eq!(room["fname"], "dev");
        assert_eq!(room["u"]["username"], "alice");
        assert_eq!(room["usersCount"], 2);
        assert_eq!(room["ro"], false);

        let (st, v) = s.post(Some(&bob), "/api/v1/channels.create", json!({ "name": "dev" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-duplicate-channel-name")));
        assert_eq!(v["error"], "A channel with name 'dev' exists [error-duplicate-channel-name]");
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.create", json!({ "name": "no spaces" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-room-name")));
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.create", json!({})).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "Param \"name\" is required" })));
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.create", json!({ "name": "x", "members": "bob" })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("Param \"members\" must be an array if provided")));

        // Members and listing.
        let (_, v) = s.get(Some(&bob), "/api/v1/channels.members", &[("roomId", &rid)]).await;
        let mut names: Vec<&str> = v["members"].as_array().unwrap().iter().map(|m| m["username"].as_str().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(v["total"], 2);
        let (_, v) = s.get(Some(&bob), "/api/v1/channels.list", &[]).await;
        assert_eq!(v["total"], 2);
        assert_eq!(ids(&v, "channels"), [rid.clone(), "GENERAL".to_string()], "sorted by name");

        // Topic.
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.setTopic", json!({ "roomId": rid, "topic": "builds" })).await;
        assert_eq!((st, v["topic"].clone()), (StatusCode::OK, json!("builds")));
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.setTopic", json!({ "roomId": rid, "topic": "builds" })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("The channel topic is the same as what it would be changed to.")));
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.setTopic", json!({ "roomId": rid, "topic": "mine" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-action-not-allowed")));
        let (_, v) = s.get(Some(&bob), "/api/v1/channels.info", &[("roomId", &rid)]).await;
        assert_eq!(v["channel"]["topic"], "builds");

        // Kick, invite, join, leave.
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.kick", json!({ "roomId": rid, "username": "alice" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-not-allowed")));
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.kick", json!({ "roomId": rid, "username": "bob" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["channel"]["usersCount"], 1);
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.invite", json!({ "roomId": rid, "usernames": ["bob"] })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["channel"]["usersCount"], 2);
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.invite", json!({ "roomId": rid, "usernames": ["ghost"] })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("invalid-user-invite-list")));
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.invite", json!({ "roomId": rid })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-users-params-not-provided")));
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.leave", json!({ "roomName": "dev" })).await;
        assert_eq!((st, v["channel"]["usersCount"].clone()), (StatusCode::OK, json!(1)));
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.leave", json!({ "roomName": "dev" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-user-not-in-room")));
        let (st, v) = s.post(Some(&bob), "/api/v1/channels.join", json!({ "roomId": rid, "joinCode": null })).await;
        assert_eq!((st, v["channel"]["usersCount"].clone()), (StatusCode::OK, json!(2)));

        // The join/leave/kick trail is in the history as system messages.
        let (_, v) = s.get(Some(&bob), "/api/v1/channels.history", &[("roomId", &rid)]).await;
        let kinds: Vec<&str> = v["messages"].as_array().unwrap().iter().map(|m| m["t"].as_str().unwrap_or("")).collect();
        assert_eq!(kinds, ["uj", "ul", "au", "ru", "room_changed_topic"]);

        // Archive blocks writes, unarchive restores them; delete removes the room.
        let (st, _) = s.post(Some(&bob), "/api/v1/channels.archive", json!({ "roomId": rid })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.archive", json!({ "roomId": rid })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, v) = s.post(Some(&alice), "/api/v1/channels.archive", json!({ "roomId": rid })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("The channel, dev, is archived [error-room-archived]")));
        let (st, v) = s.post(Some(&bob), "/api/v1/chat.postMessage", json!({ "roomId": rid, "text": "hello?" })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        let (st, _) = s.post(Some(&s.admin), "/api/v1/channels.unarchive", json!({ "roomId": rid })).await;
        assert_eq!(st, StatusCode::OK);
        let (st, v) = s.post(Some(&s.admin), "/api/v1/channels.unarchive", json!({ "roomId": rid })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("The channel, dev, is not archived")));
        s.say(&bob, &rid, "back").await;
        let (st, _) = s.post(Some(&bob), "/api/v1/channels.delete", json!({ "roomId": rid })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (st, _) = s.post(Some(&alice), "/api/v1/channels.delete", json!({ "roomId": rid })).await;
        assert_eq!(st, StatusCode::OK);
        let (st, v) = s.get(Some(&alice), "/api/v1/channels.info", &[("roomId", &rid)]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"], "The required \"roomId\" or \"roomName\" param provided does not match any channel [error-room-not-found]");
        s.stop().await;
    }

    async fn private_groups_are_invisible_to_non_members(s: TestServer) {
        let alice = s.user("alice").await;
        let bob = s.user("bob").await;
        let eve = s.user("eve").await;
        let gid = s.room(&alice, "groups", "secret", &["bob"]).await;
        s.say(&alice, "#secret", "the plan").await;
        let not_found = json!({
            "success": false, "errorType": "error-room-not-found",
            "error": "The required \"roomId\" or \"roomName\" param provided does not match any group [error-room-not-found]"
        });
        for path in ["/api/v1/groups.info", "/api/v1/groups.history", "/api/v1/groups.messages", "/api/v1/groups.members"] {
            let (st, v) = s.get(Some(&eve), path, &[("roomId", &gid)]).await;
            assert_eq!((st, v), (StatusCode::BAD_REQUEST, not_found.clone()), "{path}");
        }
        // Not through the channel API either, nor by posting.
        let (st, _) = s.get(Some(&eve), "/api/v1/channels.history", &[("roomId", &gid)]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let (st, v) = s.post(Some(&eve), "/api/v1/chat.postMessage", json!({ "roomId": gid, "text": "let me in" })).await;
        assert_eq!((st, v), (StatusCode::BAD_REQUEST, json!({ "success": false, "error": "error-not-allowed" })));
        let (st, v) = s.post(Some(&eve), "/api/v1/chat.postMessage", json!({ "channel": "#secret", "text": "let me in" })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("error-not-allowed")));
        let (_, v) = s.get(Some(&eve), "/api/v1/groups.list", &[]).await;
        assert_eq!((v["groups"].clone(), v["total"].clone()), (json!([]), json!(0)));

        // Members see it.
        let (st, v) = s.get(Some(&bob), "/api/v1/groups.history", &[("roomId", &gid)]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["messages"][0]["msg"], "the plan");
        let (_, v) = s.get(Some(&bob), "/api/v1/groups.list", &[]).await;
        assert_eq!(ids(&v, "groups"), vec![gid.clone()]);
        let (st, v) = s.get(Some(&bob), "/api/v1/groups.messages", &[("roomName", "secret")]).await;
        assert_eq!((st, v["total"].clone()), (StatusCode::OK, json!(1)));

        // An admin lists every group, but still cannot read one they are not in.
        let (_, v) = s.get(Some(&s.admin), "/api/v1/groups.listAll", &[]).await;
        assert_eq!(ids(&v, "groups"), vec![gid.clone()]);
        let (st, _) = s.get(Some(&bob), "/api/v1/groups.listAll", &[]).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Leaving makes it disappear for the leaver; kick returns {} for groups.
        let (st, v) = s.post(Some(&bob), "/api/v1/groups.leave", json!({ "roomId": gid })).await;
        assert_eq!((st, v), (StatusCode::OK, json!({ "success": true })));
        let (st, _) = s.get(Some(&bob), "/api/v1/groups.info", &[("roomId", &gid)]).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        s.stop().await;
    }

    async fn direct_messages(s: TestServer) {
        let alice = s.user("alice").await;
        let bob = s.user("bob").await;
        let eve = s.user("eve").await;
        let (st, v) = s.post(Some(&alice), "/api/v1/im.create", json!({ "username": "bob" })).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let room = &v["room"];
        let mut sorted = [alice.uid.clone(), bob.uid.clone()];
        sorted.sort();
        assert_eq!(room["_id"], json!(sorted.concat()));
        assert_eq!(room["rid"], room["_id"]);
        assert_eq!(room["t"], "d");
        assert_eq!(room["usernames"], json!(["alice", "bob"]));
        let rid = room["_id"].as_str().unwrap().to_string();
        let (_, again) = s.post(Some(&bob), "/api/v1/dm.create", json!({ "username": "alice" })).await;
        assert_eq!(again["room"]["_id"], json!(rid));

        let m = s.say(&alice, "@bob", "psst").await;
        assert_eq!(m["rid"], json!(rid));
        let (_, v) = s.get(Some(&bob), "/api/v1/im.history", &[("roomId", &rid)]).await;
        assert_eq!(v["messages"][0]["msg"], "psst");
        let (_, v) = s.get(Some(&bob), "/api/v1/im.messages", &[("username", "alice")]).await;
        assert_eq!(v["total"], 1);
        let (_, v) = s.get(Some(&bob), "/api/v1/im.list", &[]).await;
        assert_eq!(ids(&v, "ims"), vec![rid.clone()]);
        assert_eq!(v["ims"][0]["lastMessage"]["msg"], "psst");

        let (st, v) = s.get(Some(&eve), "/api/v1/im.history", &[("roomId", &rid)]).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-room-not-found")));
        let (st, v) = s.post(Some(&eve), "/api/v1/chat.postMessage", json!({ "roomId": rid, "text": "hi" })).await;
        assert_eq!((st, v["error"].clone()), (StatusCode::BAD_REQUEST, json!("error-not-allowed")));
        let (st, v) = s.get(Some(&eve), "/api/v1/im.history", &[]).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-room-param-not-provided")));
        let (st, v) = s.post(Some(&alice), "/api/v1/im.create", json!({ "username": "ghost" })).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-invalid-user")));
        s.stop().await;
    }

    async fn rooms_get_and_subscriptions_get(s: TestServer) {
        let alice = s.user("alice").await;
        let start = switchboard::util::iso(switchboard::util::now_ms() - 1);
        let rid = s.room(&alice, "channels", "ops", &[]).await;
        let gid = s.room(&alice, "groups", "ops-private", &[]).await;
        let (st, v) = s.get(Some(&alice), "/api/v1/rooms.get", &[]).await;
        assert_eq!(st, StatusCode::OK);
        let mut got = ids(&v, "update");
        got.sort();
        let mut want = vec!["GENERAL".to_string(), rid.clone(), gid.clone()];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(v["remove"], json!([]));

        s.post(Some(&alice), "/api/v1/groups.delete", json!({ "roomId": gid })).await;
        let (_, v) = s.get(Some(&alice), "/api/v1/rooms.get", &[("updatedSince", &start)]).await;
        assert_eq!(ids(&v, "update"), vec![rid.clone()]);
        assert_eq!(ids(&v, "remove"), vec![gid.clone()]);
        let (st, v) = s.get(Some(&alice), "/api/v1/rooms.get", &[("updatedSince", "garbage")]).await;
        assert_eq!((st, v["errorType"].clone()), (StatusCode::BAD_REQUEST, json!("error-updatedSince-param-invalid")));

        let (_, v) = s.get(Some(&alice), "/api/v1/subscriptions.get", &[]).await;
        let subs = v["update"].as_array().unwrap();
        assert_eq!(subs.len(), 2);
        let ops = subs.iter().find(|x| x["rid"] == json!(rid)).unwrap();
        assert_eq!(ops["name"], "ops");
        assert_eq!(ops["roles"], json!(["owner"]));
        assert_eq!(ops["u"]["username"], "alice");
        assert!(ops["ts"].as_str().unwrap().ends_with('Z'));
        let (_, v) = s.get(Some(&alice), "/api/v1/subscriptions.get", &[("updatedSince", &start)]).await;
        assert_eq!(v["remove"].as_array().unwrap().len(), 1);
        let (_, v) = s.get(Some(&alice), "/api/v1/subscriptions.getOne", &[("roomId", &rid)]).await;
        assert_eq!(v["subscription"]["rid"], json!(rid));
        s.stop().await;
    }
}
