// strom-client's subcommands. Each takes the arguments after its name, prints its own
// errors ("strom-client: ...") and returns the process exit code (client_args.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strom::tools {

using Args = std::vector<std::string_view>;

int cmd_publish(const Args& args);
int cmd_play(const Args& args);
int cmd_probe(const Args& args);
int cmd_bench(const Args& args);
int cmd_token(const Args& args);   // signed URLs for secure_token

// "strom-client: <what>" on stderr.
void print_error(const std::string& what);
// True when stderr is a terminal (the live status line is drawn there).
bool stderr_is_tty();
// Handles -h/--help in args: prints the usage, returns true.
bool wants_help(const Args& args, std::string_view cmd);

}  // namespace strom::tools
