#!/usr/bin/env python3
"""The `rocketchat_API` REST client, used as its README shows, against a running server.

    python3 rest_client.py BASE_URL ADMIN_USER ADMIN_PASSWORD

Logs in, creates users, a channel and a private group, posts and reads messages, checks that a non-member
cannot read the group, uses a personal access token, and exits non-zero on the first answer a Rocket.Chat
server would not give.
"""

from rocketchat_API.APIExceptions.RocketExceptions import (
    RocketApiException,
    RocketAuthenticationException,
)
from rocketchat_API.rocketchat import RocketChat

from common import args, check, run, unique


def expect_api_error(what, fn, *a, **kw):
    """Calls fn, which must raise RocketApiException (HTTP >= 400 with success:false); returns it."""
    try:
        got = fn(*a, **kw)
        # Paginated calls return a generator; the first page is fetched eagerly, but drain it to be sure.
        if hasattr(got, "__next__"):
            got = list(got)
    except RocketApiException as e:
        check(e.response_json.get("success") is False, f"{what}: error body has success:false", e.response_json)
        print(f"     ({what}: HTTP {e.status_code} {e.response_json})")
        return e
    check(False, f"{what}: must fail", got)


def main():
    url, admin_user, admin_password = args()

    # --- log in, who am I ---------------------------------------------------------------------------------
    admin = RocketChat(admin_user, admin_password, server_url=url)
    me = admin.me()
    check(me.get("success") is True and me.get("username") == admin_user, "me() as the admin", me)
    admin_id = me["_id"]
    check("admin" in me.get("roles", []), "the admin has the admin role", me.get("roles"))
    info = admin.info()
    check(info.get("success") is True and "version" in info, "info() has a version", info)

    try:
        RocketChat(admin_user, "wrong-" + admin_password, server_url=url)
        check(False, "a wrong password must not log in")
    except RocketAuthenticationException:
        check(True, "a wrong password raises RocketAuthenticationException (HTTP 401)")

    # --- users ----------------------------------------------------------------------------------------------
    alice_name, bob_name, carol_name = unique("alice"), unique("bob"), unique("carol")
    users = {}
    for name in (alice_name, bob_name, carol_name):
        r = admin.users_create(email=f"{name}@example.org", name=f"{name} Name", password=f"pw-{name}",
                               username=name)
        check(r.get("success") is True and r["user"]["username"] == name, f"users_create {name}", r)
        users[name] = r["user"]["_id"]
    expect_api_error("users_create with a taken username", admin.users_create, email=f"x{alice_name}@example.org",
                     name="dup", password="x12345", username=alice_name)

    r = admin.users_info(username=alice_name)
    check(r.get("success") is True and r["user"]["_id"] == users[alice_name], "users_info(username=...)", r)
    check(r["user"]["name"] == f"{alice_name} Name", "users_info has the name", r["user"])
    r = admin.users_info(user_id=users[bob_name])
    check(r["user"]["username"] == bob_name, "users_info(user_id=...)", r)
    e = expect_api_error("users_info of an unknown user", admin.users_info, username=unique("nobody"))
    check("User not found" in e.response, "unknown user: 'User not found' in the error", e.response)
    listed = [u["username"] for u in admin.users_list()]
    check(alice_name in listed and bob_name in listed, "users_list() pages through all users", listed)
    r = admin.users_update(users[carol_name], name="Carol Renamed")
    check(r.get("success") is True and r["user"]["name"] == "Carol Renamed", "users_update(name=...)", r)

    alice = RocketChat(alice_name, f"pw-{alice_name}", server_url=url)
    check(alice.me()["username"] == alice_name, "alice logs in with her password", None)
    bob = RocketChat(bob_name, f"pw-{bob_name}", server_url=url)
    check(bob.me()["_id"] == users[bob_name], "bob logs in", None)
    carol = RocketChat(carol_name, f"pw-{carol_name}", server_url=url)

    # --- a public channel -------------------------------------------------------------------------------------
    chan_name = unique("chan")
    r = alice.channels_create(chan_name, members=[bob_name])
    check(r.get("success") is True and r["channel"]["name"] == chan_name, "channels_create", r)
    check(r["channel"]["t"] == "c", "a channel has t == 'c'", r["channel"])
    chan_id = r["channel"]["_id"]
    r = alice.channels_info(room_id=chan_id)
    check(r["channel"]["_id"] == chan_id and r["channel"]["name"] == chan_name, "channels_info(room_id)", r)
    r = alice.channels_info(channel=chan_name)
    check(r["channel"]["_id"] == chan_id, "channels_info(channel=name)", r)
    names = [c["name"] for c in admin.channels_list()]
    check(chan_name in names and "general" in names, "channels_list() has the new channel and general", names)
    names = [c["name"] for c in bob.channels_list_joined()]
    check(chan_name in names, "channels_list_joined() of a member", names)
    members = [m["username"] for m in alice.channels_members(room_id=chan_id)]
    check(sorted(members) == sorted([alice_name, bob_name]), "channels_members", members)

    r = alice.chat_post_message("hello channel", channel="#" + chan_name)
    check(r.get("success") is True and r["message"]["msg"] == "hello channel", "chat_post_message(channel=#name)", r)
    check(r["channel"] == "#" + chan_name, "chat.postMessage echoes the channel as given", r.get("channel"))
    check(r["message"]["rid"] == chan_id and r["message"]["u"]["username"] == alice_name, "message rid and u", r)
    first_id = r["message"]["_id"]
    r = bob.chat_post_message("reply by id", room_id=chan_id, alias="Bobby",
                              attachments=[{"color": "#00ff00", "text": "attached", "title": "T"}])
    check(r["message"]["alias"] == "Bobby", "chat_post_message(alias=...)", r["message"])
    check(r["message"]["attachments"][0]["text"] == "attached" and r["message"]["attachments"][0]["color"]
          == "#00ff00", "attachments round-trip", r["message"])
    second_id = r["message"]["_id"]
    r = alice.chat_post_message("", channel="#" + chan_name, attachments=[{"text": "only an attachment"}])
    check(r["message"]["msg"] == "", "an empty text posts msg ''", r["message"])

    history = list(alice.channels_history(chan_id))
    texts = [m["msg"] for m in history]
    check(texts[:3] == ["", "reply by id", "hello channel"], "channels_history, newest first", texts)
    check(all(isinstance(m["ts"], str) and m["ts"].endswith("Z") for m in history), "ts are ISO strings",
          [m["ts"] for m in history])
    history = list(alice.channels_history(chan_id, max_count=1, count=1))
    check(len(history) == 1, "channels_history(max_count=1) pages with count/offset", history)
    everything = list(alice.channels_history(chan_id, count=1))
    check([m["_id"] for m in everything][1:3] == [second_id, first_id],
          "channels_history(count=1) pages through with offset", [m["msg"] for m in everything])

    r = alice.chat_get_message(first_id)
    check(r["message"]["msg"] == "hello channel", "chat_get_message", r)
    r = alice.chat_update(chan_id, first_id, "hello, edited")
    check(r.get("success") is True and r["message"]["msg"] == "hello, edited", "chat_update", r)
    check(alice.chat_get_message(first_id)["message"].get("editedAt") is not None, "edited message has editedAt",
          None)
    r = bob.chat_delete(chan_id, second_id)
    check(r.get("success") is True and r["_id"] == second_id, "chat_delete of one's own message", r)
    expect_api_error("chat_get_message of a deleted message", alice.chat_get_message, second_id)

    r = alice.channels_set_topic(chan_id, "the topic")
    check(r.get("success") is True and r["topic"] == "the topic", "channels_set_topic", r)
    r = carol.channels_join(chan_id, None)
    check(r.get("success") is True, "channels_join by a non-member", r)
    r = alice.channels_kick(chan_id, users[carol_name])
    check(r.get("success") is True, "channels_kick", r)
    r = alice.channels_invite(chan_id, users[carol_name])
    check(r.get("success") is True, "channels_invite", r)
    r = carol.channels_leave(chan_id)
    check(r.get("success") is True, "channels_leave", r)

    # --- a private group ------------------------------------------------------------------------------------------
    group_name = unique("secret")
    r = alice.groups_create(group_name, members=[bob_name])
    check(r.get("success") is True and r["group"]["name"] == group_name, "groups_create", r)
    check(r["group"]["t"] == "p", "a group has t == 'p'", r["group"])
    group_id = r["group"]["_id"]
    names = [g["name"] for g in alice.groups_list()]
    check(group_name in names, "groups_list() of a member", names)
    names = [g["name"] for g in carol.groups_list()]
    check(group_name not in names, "groups_list() of a non-member does not show it", names)
    r = alice.groups_info(room_id=group_id)
    check(r["group"]["name"] == group_name, "groups_info(room_id)", r)
    r = alice.chat_post_message("for members only", room_id=group_id)
    check(r["message"]["rid"] == group_id, "chat_post_message to the group", r)
    texts = [m["msg"] for m in bob.groups_history(group_id)]
    check(texts[:1] == ["for members only"], "groups_history as a member", texts)
    members = sorted(m["username"] for m in alice.groups_members(room_id=group_id))
    check(members == sorted([alice_name, bob_name]), "groups_members", members)

    # Not a member: neither history, nor info, nor posting.
    expect_api_error("groups_history as a non-member", carol.groups_history, group_id)
    expect_api_error("groups_info as a non-member", carol.groups_info, room_id=group_id)
    expect_api_error("chat_post_message to the group as a non-member", carol.chat_post_message, "let me in",
                     room_id=group_id)
    texts = [m["msg"] for m in alice.groups_history(group_id)]
    check("let me in" not in texts, "the refused post is not in the group", texts)
    r = alice.groups_invite(group_id, users[carol_name])
    check(r.get("success") is True, "groups_invite", r)
    texts = [m["msg"] for m in carol.groups_history(group_id)]
    check("for members only" in texts, "groups_history once invited", texts)
    r = alice.groups_kick(group_id, users[carol_name])
    check(r.get("success") is True, "groups_kick", r)
    expect_api_error("groups_history after being kicked", carol.groups_history, group_id)

    # --- direct messages -----------------------------------------------------------------------------------------
    r = alice.dm_create(bob_name)
    check(r.get("success") is True and r["room"]["t"] == "d", "dm_create", r)
    dm_id = r["room"]["_id"]
    r = alice.chat_post_message("psst", channel="@" + bob_name)
    check(r["message"]["rid"] == dm_id, "chat_post_message(channel=@user) goes to the DM", r)
    texts = [m["msg"] for m in bob.dm_history(dm_id)]
    check(texts[:1] == ["psst"], "dm_history", texts)
    ims = [i["_id"] for i in bob.dm_list()]
    check(dm_id in ims, "dm_list", ims)

    # --- rooms and subscriptions ---------------------------------------------------------------------------------------
    r = bob.rooms_get()
    ids = [room["_id"] for room in r["update"]]
    check(chan_id in ids and group_id in ids and dm_id in ids, "rooms_get has bob's rooms", ids)
    r = bob.subscriptions_get()
    rids = [s["rid"] for s in r["update"]]
    check(chan_id in rids and group_id in rids, "subscriptions_get has bob's rooms", rids)

    # --- personal access token ----------------------------------------------------------------------------------------
    # rocketchat_API has no wrapper for generating one; its generic call is how its users do it.
    r = bob.call_api_post("users.generatePersonalAccessToken", tokenName="ci", bypassTwoFactor=True)
    check(r.get("success") is True and r.get("token"), "users.generatePersonalAccessToken", r)
    bot = RocketChat(user_id=users[bob_name], auth_token=r["token"], server_url=url)
    check(bot.me()["username"] == bob_name, "me() with the personal access token", None)
    r = bot.chat_post_message("via PAT", room_id=chan_id)
    check(r.get("success") is True and r["message"]["u"]["username"] == bob_name, "posting with the PAT", r)
    forged = RocketChat(user_id=users[alice_name], auth_token=r["message"]["_id"], server_url=url)
    expect_api_error("a wrong token", forged.me)

    # --- archiving, deleting, logging out ---------------------------------------------------------------------------------
    r = alice.channels_archive(chan_id)
    check(r.get("success") is True, "channels_archive", r)
    expect_api_error("posting to an archived channel", bob.chat_post_message, "late", room_id=chan_id)
    # As in Rocket.Chat, `unarchive-room` is the admin's alone; an owner may archive but not unarchive.
    expect_api_error("channels_unarchive by the owner", alice.channels_unarchive, chan_id)
    r = admin.channels_unarchive(chan_id)
    check(r.get("success") is True, "channels_unarchive by the admin", r)
    r = bob.chat_post_message("back again", room_id=chan_id)
    check(r.get("success") is True, "posting after unarchiving", r)
    r = alice.groups_delete(room_id=group_id)
    check(r.get("success") is True, "groups_delete", r)
    expect_api_error("groups_info of a deleted group", alice.groups_info, room_id=group_id)
    r = admin.users_delete(users[carol_name])
    check(r.get("success") is True, "users_delete", r)
    expect_api_error("users_info of a deleted user", admin.users_info, user_id=users[carol_name])

    r = alice.logout()
    check(r.get("status") == "success", "logout", r)
    expect_api_error("me() after logout", alice.me)
    check(admin_id == admin.me()["_id"], "the admin's session is untouched", None)


if __name__ == "__main__":
    run(main)
