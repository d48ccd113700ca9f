// One directive of a configuration file as the parser read it, before any module has
// looked at it: `name arg ...;` or `name arg ... { children }`. Includes are already
// expanded in place. Owned by whoever parsed it (the cycle builder drops the tree once
// the configuration is built); file and line are kept for error messages.
#pragma once

#include <string>
#include <vector>

namespace strom {

struct ConfNode {
    std::string name;
    std::vector<std::string> args;
    std::vector<ConfNode> children;
    bool is_block = false;
    std::string file;  // the file the directive was read from ("command line" for -g)
    int line = 0;      // line of the directive's name; 0 when the source has no lines
};

// " in FILE:LINE", or " in FILE" when line is 0 (nginx's wording for -g directives).
std::string conf_where(const std::string& file, int line);
inline std::string conf_where(const ConfNode& d)
{
    return conf_where(d.file, d.line);
}

}  // namespace strom
