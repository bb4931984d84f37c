#pragma once
/// Slack mrkdwn text: escaping for posts, decoding of received text, plain text for exports.

#include <string>
#include <string_view>

namespace tpmbot::mrkdwn {

/// Escapes exactly &, <, > (to &amp; &lt; &gt;) and nothing else (slack-protocol §7.1).
std::string escape(std::string_view plain);
/// Decodes &lt; &gt; &amp; (in that order) in text as Slack sends it.
std::string decode(std::string_view encoded);
/// Re-encodes text as Slack sent it for a bot post: <@U..> and <#C..> references and
/// http(s)/mailto links are kept, <!here>/<!channel>/<!everyone>/<!subteam^..> become plain
/// text (@here, @channel, @everyone, @handle; <!group> -> @channel, a user group without a
/// label -> @group), stray &, <, > are escaped (so is anything else in <...>), and existing
/// &amp; &lt; &gt; entities are kept as they are. Idempotent.
std::string safe(std::string_view slack_text);
/// Turns bot mrkdwn back into plain text for exports: <@U1|dana> -> @dana, <@U1> -> @U1,
/// <#C1|general> -> #general, <url|label> -> label (url), <url> -> url, entities decoded.
std::string to_plain(std::string_view mrkdwn);

} // namespace tpmbot::mrkdwn
