// The configuration lexer and parser: nginx's grammar (`directive arg ...;`,
// `block arg ... { ... }`, `#` comments, single and double quotes with `\` escapes,
// `include PATH;` anywhere, glob patterns allowed) into a ConfNode tree. Pure: no
// module knowledge, no global state, so a reload and a test can parse side by side.
// Limits (a config may come from anywhere, and the fuzzer feeds it garbage): a token is
// at most 64 KiB, blocks nest at most 16 deep, includes nest at most 16 deep.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/conf_node.h"

namespace strom {

struct ConfParseOptions {
    // false: `include` is not expanded and stays an ordinary node (fuzzing, tests).
    bool includes = true;
    // Where relative include paths start: the directory of the main config file, as
    // nginx's conf prefix. Empty: the current directory.
    std::string include_dir;
    // false: nodes carry line 0 and errors say " in NAME" (nginx's "in command line").
    bool line_numbers = true;
};

inline constexpr size_t kConfMaxToken = 64 * 1024;
inline constexpr int kConfMaxNesting = 16;
inline constexpr int kConfMaxIncludeDepth = 16;
inline constexpr size_t kConfMaxFileSize = 16 * 1024 * 1024;

// Parses the file at `path` and appends its top-level directives to *out. On failure
// returns false and sets *err to an nginx-worded message naming file:line.
bool parse_conf_file(const std::string& path, std::vector<ConfNode>* out, std::string* err,
                     const ConfParseOptions& opt = {});

// The same for text in memory; `name` stands for the file name in nodes and errors.
bool parse_conf_string(std::string_view text, const std::string& name, std::vector<ConfNode>* out,
                       std::string* err, const ConfParseOptions& opt = {});

}  // namespace strom
