#pragma once
/// The argument tokenizer: Slack's encoded command text in, typed tokens out.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot::args {

/// What a token is.
enum class tok {
    word,      ///< a bare word (may contain ':' when it is not key:value, e.g. "12:30")
    quoted,    ///< "a quoted string" (straight or curly quotes)
    user,      ///< <@U123> or <@U123|name>
    channel,   ///< <#C123> or <#C123|name>
    usergroup, ///< <!subteam^S123> or <!subteam^S123|@team>
    special,   ///< <!here>, <!channel>, <!everyone> (and <!group>, its old synonym: "channel")
    link,      ///< <https://...> or <https://...|label>, <mailto:...>
    key_value, ///< key:value, key:"quoted value", key:"A"|"B", key:<@U1>,<@U2>
};

/// One token. `raw` is always exactly the source text of the token.
struct token {
    tok kind = tok::word;
    std::string raw;
    /// word/quoted: decoded plain text (&amp; &lt; &gt; decoded, quotes removed);
    /// user/channel/usergroup: the id; special: "here"|"channel"|"everyone"; link: the url;
    /// key_value: the decoded value with one level of surrounding quotes removed.
    std::string text;
    std::string label; ///< user/channel/usergroup/link label, without a leading @ or #
    std::string key;   ///< key_value: the key, lower-cased
    std::string value; ///< key_value: the value exactly as typed (quotes kept)
};

/// Splits Slack command or message text into tokens. Whitespace separates tokens except
/// inside quotes and <...>. `key:value` is recognised when `key` is a run of ASCII letters,
/// digits, '_' or '-' starting with a letter; a key with an empty value ("blocker:") is a
/// key_value token with an empty value; a value starting with "//" is not one (a bare URL is
/// a word). A value that ends in ',' continues over whitespace when the next part starts with
/// a quote, a reference or '@' (`consult:<@U1>, <@U2>`). Quotes (" “ ” „) open only at the
/// start of a token or of a value part; elsewhere they are characters ("5\"", "don't").
/// A reference glued to other text ("<@U1>'s") is part of a word. References are read with
/// mrkdwn::parse_reference. C0 control characters other than \n and \t, and DEL (0x7F), are
/// read as spaces: they separate tokens, and inside quotes, references and values they become
/// spaces (in `raw` too), so none reaches storage. Throws user_error on an unterminated quote;
/// its message is mrkdwn, with the user's text in it escaped (mrkdwn::escape), ready to post.
std::vector<token> tokenize(std::string_view text);

/// Splits a key:value value into its parts: `"A"|"B"` -> {A, B}; `<@U1>,<@U2>` ->
/// {<@U1>, <@U2>}; `a, b` -> {a, b}; anything else -> {value}. Quotes are removed; parts stay
/// Slack-encoded (references are not resolved). Control characters are read as spaces, as in
/// tokenize. Throws user_error on an unterminated quote (the same mrkdwn message).
std::vector<std::string> split_values(std::string_view value);

/// The token rendered as safe Slack mrkdwn for a bot post: user and channel references stay
/// references (<@U1>, <#C1|name>), links stay links, broadcasts (<!here>, user groups)
/// become plain text ("@here", "@team", "@group" without a label) so nothing pings a crowd,
/// and &, <, > are escaped everywhere else (mrkdwn::safe of `raw`). A quoted token renders
/// its content without the quotes; a key_value renders as typed, quotes included.
std::string render(const token& t);
/// The tokens rendered with `render`, separated by single spaces.
std::string render(std::span<const token> ts);

} // namespace tpmbot::args
