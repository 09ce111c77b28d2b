// Text from the outside world (a torrent, a tracker, a peer) made safe to print on a terminal: a comment or a
// file name holding ESC sequences could otherwise retitle the window, clear the screen, move the cursor to
// forge output, or worse on some terminals.
#pragma once

#include <string>
#include <string_view>

namespace shoal {

// Returns text with every byte a terminal could act on shown as an escape instead, and the rest unchanged:
//  - C0 controls and DEL: "\t", "\n", "\r" for those three, "\xNN" for the others (ESC is "\x1b");
//  - C1 controls U+0080-U+009F (valid UTF-8 that 8-bit terminals read as CSI, OSC...): "\u009b";
//  - bytes that are not part of valid UTF-8: "\xNN" each.
// Printable ASCII and valid UTF-8 above U+009F pass through, so ordinary names in any script read as they
// are. A backslash is left alone: the escapes are for reading, not for parsing back.
std::string escape_for_terminal(std::string_view text);

}  // namespace shoal
