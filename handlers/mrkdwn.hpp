#pragma once
/// Slack mrkdwn text: escaping for posts, decoding of received text, plain text for exports.

#include <cstddef>
#include <optional>
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
/// The text with each ill-formed UTF-8 sequence (a stray continuation byte, a truncated,
/// overlong or surrogate sequence, a byte that never starts one) replaced by U+FFFD, one per
/// maximal ill-formed part, as Unicode recommends; well-formed text comes back unchanged.
std::string valid_utf8(std::string_view text);
/// Turns bot mrkdwn back into plain text for exports: <@U1|dana> -> @dana, <@U1> -> @U1,
/// <#C1|general> -> #general, <url|label> -> label (url), <url> -> url, entities decoded.
std::string to_plain(std::string_view mrkdwn);

/// What a Slack control sequence `<...>` refers to.
enum class ref_kind {
    user,      ///< <@U123> or <@W123>, optionally |label
    channel,   ///< <#C123>, optionally |label
    usergroup, ///< <!subteam^S123>, optionally |@handle
    special,   ///< <!here>, <!channel>, <!everyone>, <!group> (Slack's old synonym of channel)
    link,      ///< <https://...>, <http://...>, <mailto:...>, optionally |label
};

/// A well-formed Slack control sequence; every view points into the parsed text.
struct reference {
    ref_kind kind = ref_kind::user;
    std::string_view source; ///< the whole sequence, from '<' to '>' inclusive
    std::string_view target; ///< what precedes '|', as typed: "@U1", "#C1", "!group", "https://x"
    /// user/channel/usergroup: the id ("U1", "C1", "S1"); special: "here", "channel" (also for
    /// <!group>) or "everyone"; link: the url (still Slack-encoded).
    std::string_view id;
    std::string_view label; ///< what follows '|', as typed (sigil kept); empty when none
};

/// Parses the control sequence starting at s[pos] == '<'; nullopt when there is no
/// well-formed one there (then that '<' is just text). Ids are upper-case ASCII letters and
/// digits; a body containing '<' or a newline, a link target containing whitespace (ASCII
/// or U+00A0), and any other `<!...>` or `<scheme:...>` are not references.
std::optional<reference> parse_reference(std::string_view s, std::size_t pos = 0);

} // namespace tpmbot::mrkdwn
