#!/usr/bin/env python3
"""The `rocketchat-async` realtime (DDP) client, used as its README shows, against a running server.

    python3 ddp_client.py BASE_URL ADMIN_USER ADMIN_PASSWORD

A bot logs in over the WebSocket, lists its rooms, subscribes to their messages, receives a message the admin
posts over REST (with `rocketchat_API`), sends a message, a reaction and a typing event, follows room changes,
unsubscribes, and resumes with a token. Exits non-zero on the first answer a Rocket.Chat server would not give.
"""

import asyncio

from rocketchat_API.rocketchat import RocketChat as RestClient
from rocketchat_async import RocketChat

from common import args, check, run, unique

WAIT = 10  # seconds for anything the server should do at once


async def next_event(queue, what):
    try:
        return await asyncio.wait_for(queue.get(), WAIT)
    except asyncio.TimeoutError:
        check(False, f"{what}: nothing arrived within {WAIT} s")


async def barrier(rc):
    """The library does not wait for `ready`/`nosub`; a method call on the same connection is answered only
    after the server has handled the frames sent before it."""
    await asyncio.wait_for(rc.get_channels(), WAIT)


async def rest(fn, *a, **kw):
    """A blocking rocketchat_API call, off the event loop."""
    return await asyncio.to_thread(fn, *a, **kw)


async def scenario(url, admin_user, admin_password):
    ws_url = url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/websocket"

    admin = RestClient(admin_user, admin_password, server_url=url)
    admin_id = admin.me()["_id"]
    bot_name = unique("bot")
    bot_password = f"pw-{bot_name}"
    r = admin.users_create(email=f"{bot_name}@example.org", name="The Bot", password=bot_password,
                           username=bot_name)
    bot_id = r["user"]["_id"]
    chan_name = unique("bots")
    chan_id = admin.channels_create(chan_name, members=[bot_name])["channel"]["_id"]

    # --- start: connect + login -------------------------------------------------------------------------------
    try:
        await asyncio.wait_for(RocketChat().start(ws_url, bot_name, "wrong"), WAIT)
        check(False, "start() with a wrong password must fail")
    except RuntimeError as e:
        check("Incorrect password" in str(e) or "User not found" in str(e),
              "start() with a wrong password raises RuntimeError(reason)", str(e))

    rc = RocketChat()
    await asyncio.wait_for(rc.start(ws_url, bot_name, bot_password), WAIT)
    check(rc.user_id == bot_id, "start() logs in; user_id is the bot's id", rc.user_id)

    # --- get_channels -----------------------------------------------------------------------------------------------
    channels = await asyncio.wait_for(rc.get_channels(), WAIT)
    check((chan_id, "c") in channels, "get_channels() lists the new channel as (id, 'c')", channels)
    check(("GENERAL", "c") in channels, "get_channels() lists GENERAL", channels)
    raw = await asyncio.wait_for(rc.get_channels_raw(), WAIT)
    check(any(r["_id"] == chan_id and r.get("name") == chan_name for r in raw), "get_channels_raw() has names", raw)

    # --- subscribe to every room, as the README does -------------------------------------------------------------------
    messages = asyncio.Queue()

    def handle_message(channel_id, sender_id, msg_id, thread_id, msg, qualifier, unread, repeated):
        messages.put_nowait((channel_id, sender_id, msg_id, thread_id, msg, qualifier, unread, repeated))

    subs = {}
    for channel_id, _channel_type in channels:
        subs[channel_id] = await rc.subscribe_to_channel_messages(channel_id, handle_message)
    check(all(isinstance(s, str) for s in subs.values()), "subscribe_to_channel_messages returns ids", subs)
    await barrier(rc)

    # A message posted over REST reaches the callback.
    posted = (await rest(admin.chat_post_message, "hello bot", room_id=chan_id))["message"]
    got = await next_event(messages, "the REST post over the WebSocket")
    check(got == (chan_id, admin_id, posted["_id"], None, "hello bot", None, False, False),
          "callback gets (rid, sender, id, tmid, text, t, unread, repeated) of the REST post", got)
    posted = (await rest(admin.chat_post_message, "in general", channel="#general"))["message"]
    got = await next_event(messages, "a post in GENERAL")
    check(got[0] == "GENERAL" and got[2] == posted["_id"] and got[4] == "in general", "a post in GENERAL", got)

    # --- send_message -----------------------------------------------------------------------------------------------------
    await asyncio.wait_for(rc.send_message("hello humans", chan_id), WAIT)
    got = await next_event(messages, "the bot's own message")
    check(got[0] == chan_id and got[1] == bot_id and got[4] == "hello humans", "send_message is delivered", got)
    own_id = got[2]
    latest = list(await rest(admin.channels_history, chan_id, max_count=1, count=1))
    check(latest and latest[0]["_id"] == own_id and latest[0]["msg"] == "hello humans"
          and latest[0]["u"]["username"] == bot_name, "send_message is in channels_history over REST", latest)

    # --- send_reaction: the message comes again, marked repeated ---------------------------------------------------------
    await rc.send_reaction(own_id, ":thumbsup:")
    got = await next_event(messages, "the reacted message")
    check(got[2] == own_id and got[7] is True, "send_reaction re-delivers the message with repeated=True", got)
    msg = (await rest(admin.chat_get_message, own_id))["message"]
    check(msg.get("reactions", {}).get(":thumbsup:", {}).get("usernames") == [bot_name],
          "the reaction is stored", msg.get("reactions"))

    # A thread reply carries its tmid. (Rocket.Chat also re-sends the root with its reply count; that may
    # follow, so the queue is drained before anything relies on ordering again.)
    await asyncio.wait_for(rc.send_message("in a thread", chan_id, thread_id=own_id), WAIT)
    got = await next_event(messages, "the thread reply")
    check(got[3] == own_id and got[4] == "in a thread", "send_message(thread_id=...) sets tmid", got)

    # --- send_typing_event: answered (the call waits for its result) --------------------------------------------------------
    await asyncio.wait_for(rc.send_typing_event(chan_id), WAIT)
    check(True, "send_typing_event is answered")
    await asyncio.wait_for(rc.send_typing_event(chan_id, thread_id=own_id), WAIT)
    check(True, "send_typing_event(thread_id=...) is answered")

    # --- subscribe_to_channel_changes: being added to a private group --------------------------------------------------------
    rooms = asyncio.Queue()
    await rc.subscribe_to_channel_changes(lambda channel_id, channel_type: rooms.put_nowait((channel_id, channel_type)))
    await barrier(rc)
    group_id = (await rest(admin.groups_create, unique("bots-private"), members=[bot_name]))["group"]["_id"]
    got = await next_event(rooms, "rooms-changed for the new group")
    check(got == (group_id, "p"), "subscribe_to_channel_changes reports the new group as (id, 'p')", got)
    channels = await asyncio.wait_for(rc.get_channels(), WAIT)
    check((group_id, "p") in channels, "get_channels() now lists the group", channels)

    # --- unsubscribe: nothing more from that room -------------------------------------------------------------------------
    while not messages.empty():
        messages.get_nowait()
    await rc.unsubscribe(subs[chan_id])
    await barrier(rc)
    await rest(admin.chat_post_message, "not for the bot", room_id=chan_id)
    marker = (await rest(admin.chat_post_message, "marker", channel="#general"))["message"]
    got = await next_event(messages, "the marker in GENERAL")
    check(got[2] == marker["_id"], "after unsubscribe, the next event is the GENERAL marker", got)

    # --- resume with a REST login token and with a personal access token --------------------------------------------------------
    bot_rest = RestClient(bot_name, bot_password, server_url=url)
    token = bot_rest.headers["X-Auth-Token"]
    rc2 = RocketChat()
    await asyncio.wait_for(rc2.resume(ws_url, bot_name, token), WAIT)
    check(rc2.user_id == bot_id, "resume() with a REST login token", rc2.user_id)
    await asyncio.wait_for(rc2.send_message("resumed", chan_id), WAIT)
    pat = bot_rest.call_api_post("users.generatePersonalAccessToken", tokenName="bot", bypassTwoFactor=True)["token"]
    rc3 = RocketChat()
    await asyncio.wait_for(rc3.resume(ws_url, bot_name, pat), WAIT)
    check(rc3.user_id == bot_id, "resume() with a personal access token", rc3.user_id)
    texts = [m["msg"] for m in await rest(lambda: list(admin.channels_history(chan_id, max_count=2, count=2)))]
    check(texts == ["resumed", "not for the bot"], "a message sent after resume() is stored", texts)

    # The connection stays healthy: run_forever() has not ended.
    check(not rc.dispatch_task.done(), "the dispatcher is still running", rc.dispatch_task)
    for c in (rc, rc2, rc3):
        c._ws_connection_task.cancel()


def main():
    url, admin_user, admin_password = args()
    asyncio.run(asyncio.wait_for(scenario(url, admin_user, admin_password), 120))


if __name__ == "__main__":
    run(main)
