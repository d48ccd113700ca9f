#include "core/conf_parser.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/conf_context.h"

namespace strom {

namespace {

enum class Tok { word, semicolon, lbrace, rbrace, eof, error };

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Splits text into words and the three punctuation marks. nginx's rules: `#` starts a
// comment only where a token could start (`a#b` is one word); quotes group anything,
// `;` `{` `#` and spaces included; \" \' \\ \n \t \r are escapes, and a backslash
// before any other character stays as typed (`\d` is two characters).
class Lexer {
public:
    Lexer(std::string_view text, const std::string& file, bool lines)
        : s_(text), file_(file), lines_(lines)
    {
    }

    // Next token; a word's text goes to *w. *line: where the token starts.
    Tok next(std::string* w, int* line);
    const std::string& file() const { return file_; }
    int line() const { return lines_ ? line_ : 0; }
    const std::string& error() const { return err_; }

private:
    void skip_blanks();
    Tok quoted(std::string* w, int start_line);
    Tok bare(std::string* w, int start_line);
    void escape(std::string* w);
    Tok fail(const std::string& msg, int line)
    {
        err_ = msg + conf_where(file_, line);
        return Tok::error;
    }
    Tok too_long(int line) { return fail("too long parameter", line); }

    std::string_view s_;
    size_t pos_ = 0;
    int line_ = 1;
    const std::string& file_;
    bool lines_;
    std::string err_;
};

void Lexer::skip_blanks()
{
    while (pos_ < s_.size()) {
        char c = s_[pos_];
        if (c == '#') {
            while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
        } else if (is_space(c)) {
            if (c == '\n') ++line_;
            ++pos_;
        } else {
            return;
        }
    }
}

Tok Lexer::next(std::string* w, int* line)
{
    skip_blanks();
    *line = this->line();
    if (pos_ >= s_.size()) return Tok::eof;
    switch (s_[pos_]) {
        case ';':
            ++pos_;
            return Tok::semicolon;
        case '{':
            ++pos_;
            return Tok::lbrace;
        case '}':
            ++pos_;
            return Tok::rbrace;
        case '"':
        case '\'':
            return quoted(w, *line);
        default:
            return bare(w, *line);
    }
}

void Lexer::escape(std::string* w)
{
    char d = s_[pos_ + 1];
    switch (d) {
        case '"':
        case '\'':
        case '\\':
            w->push_back(d);
            break;
        case 'n':
            w->push_back('\n');
            break;
        case 't':
            w->push_back('\t');
            break;
        case 'r':
            w->push_back('\r');
            break;
        default:
            w->push_back('\\');
            w->push_back(d);
            if (d == '\n') ++line_;
            break;
    }
    pos_ += 2;
}

Tok Lexer::quoted(std::string* w, int start_line)
{
    char q = s_[pos_++];
    w->clear();
    while (pos_ < s_.size()) {
        char c = s_[pos_];
        if (c == '\\' && pos_ + 1 < s_.size()) {
            escape(w);
        } else if (c == q) {
            ++pos_;
            // nginx: a closing quote must be followed by a separator.
            if (pos_ < s_.size() && !is_space(s_[pos_]) && s_[pos_] != ';' && s_[pos_] != '{' &&
                s_[pos_] != '}') {
                return fail(std::string("unexpected \"") + s_[pos_] + "\"", line());
            }
            return Tok::word;
        } else {
            if (c == '\n') ++line_;
            w->push_back(c);
            ++pos_;
        }
        if (w->size() > kConfMaxToken) return too_long(start_line);
    }
    return fail("unexpected end of file, expecting closing quote", line());
}

Tok Lexer::bare(std::string* w, int start_line)
{
    w->clear();
    while (pos_ < s_.size()) {
        char c = s_[pos_];
        if (is_space(c) || c == ';' || c == '{' || c == '}') break;
        if (c == '\\' && pos_ + 1 < s_.size()) {
            escape(w);
        } else {
            w->push_back(c);
            ++pos_;
        }
        if (w->size() > kConfMaxToken) return too_long(start_line);
    }
    return Tok::word;
}

bool read_file(const std::string& path, std::string* text, std::string* err)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = conf_sprintf("open() \"%s\" failed (%d: %s)", path.c_str(), errno, strerror(errno));
        return false;
    }
    text->clear();
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            *err =
                conf_sprintf("read() \"%s\" failed (%d: %s)", path.c_str(), errno, strerror(errno));
            ::close(fd);
            return false;
        }
        if (n == 0) break;
        if (text->size() + size_t(n) > kConfMaxFileSize) {
            *err = conf_sprintf("file \"%s\" is too large (more than %zu bytes)", path.c_str(),
                                kConfMaxFileSize);
            ::close(fd);
            return false;
        }
        text->append(buf, size_t(n));
    }
    ::close(fd);
    return true;
}

class Parser {
public:
    Parser(const ConfParseOptions& opt, std::string* err) : opt_(opt), err_(err) {}

    bool parse_text(std::string_view text, const std::string& file, std::vector<ConfNode>* out,
                    int nesting, int includes);

private:
    bool parse_block(Lexer& lx, std::vector<ConfNode>* out, int nesting, int includes, bool inner);
    bool finish(Lexer& lx, ConfNode& node, bool block, std::vector<ConfNode>* out, int nesting,
                int includes);
    bool include(const ConfNode& d, std::vector<ConfNode>* out, int nesting, int includes);
    bool include_file(const std::string& path, const ConfNode& d, std::vector<ConfNode>* out,
                      int nesting, int includes);
    bool fail(std::string msg)
    {
        *err_ = std::move(msg);
        return false;
    }

    const ConfParseOptions& opt_;
    std::string* err_;
};

bool Parser::parse_text(std::string_view text, const std::string& file, std::vector<ConfNode>* out,
                        int nesting, int includes)
{
    Lexer lx(text, file, opt_.line_numbers);
    return parse_block(lx, out, nesting, includes, false);
}

// Reads directives up to the end of the block (inner) or of the text.
bool Parser::parse_block(Lexer& lx, std::vector<ConfNode>* out, int nesting, int includes,
                         bool inner)
{
    for (;;) {
        ConfNode node;
        bool have = false;  // a name was read (it may be "", from a quoted empty string)
        std::string w;
        int line;
        Tok t;
        while ((t = lx.next(&w, &line)) == Tok::word) {
            if (!have) {
                node.name = std::move(w);
                node.file = lx.file();
                node.line = line;
                have = true;
            } else {
                node.args.push_back(std::move(w));
            }
        }
        std::string at = conf_where(lx.file(), line);
        switch (t) {
            case Tok::error:
                return fail(lx.error());
            case Tok::eof:
                if (have) return fail("unexpected end of file, expecting \";\" or \"}\"" + at);
                if (inner) return fail("unexpected end of file, expecting \"}\"" + at);
                return true;
            case Tok::rbrace:
                if (have || !inner) return fail("unexpected \"}\"" + at);
                return true;
            case Tok::semicolon:
            case Tok::lbrace:
                if (!have) {
                    return fail((t == Tok::lbrace ? "unexpected \"{\"" : "unexpected \";\"") + at);
                }
                if (!finish(lx, node, t == Tok::lbrace, out, nesting, includes)) return false;
                break;
            case Tok::word:
                break;  // not reached: the loop above eats words
        }
    }
}

bool Parser::finish(Lexer& lx, ConfNode& node, bool block, std::vector<ConfNode>* out, int nesting,
                    int includes)
{
    if (opt_.includes && node.name == "include") {
        if (block) {
            return fail("directive \"include\" is not terminated by \";\"" + conf_where(node));
        }
        if (node.args.size() != 1) {
            return fail("invalid number of arguments in \"include\" directive" + conf_where(node));
        }
        return include(node, out, nesting, includes);
    }
    if (block) {
        if (nesting >= kConfMaxNesting) {
            return fail(conf_sprintf("too deep nesting of blocks (more than %d)", kConfMaxNesting) +
                        conf_where(node));
        }
        node.is_block = true;
        if (!parse_block(lx, &node.children, nesting + 1, includes, true)) return false;
    }
    out->push_back(std::move(node));
    return true;
}

// include PATH; expands in place. Relative paths start in the main file's directory;
// a glob pattern that matches nothing is fine, a plain file that is missing is not.
bool Parser::include(const ConfNode& d, std::vector<ConfNode>* out, int nesting, int includes)
{
    const std::string& pat = d.args[0];
    if (pat.empty()) return fail("\"include\" directive invalid value: \"\"" + conf_where(d));
    if (includes >= kConfMaxIncludeDepth) {
        return fail(
            conf_sprintf("too deep nesting of includes (more than %d)", kConfMaxIncludeDepth) +
            conf_where(d));
    }
    std::string path =
        pat[0] == '/' || opt_.include_dir.empty() ? pat : opt_.include_dir + "/" + pat;
    if (path.find_first_of("*?[") == std::string::npos) {
        return include_file(path, d, out, nesting, includes);
    }
    glob_t g;
    memset(&g, 0, sizeof(g));
    int rc = glob(path.c_str(), 0, nullptr, &g);
    bool ok = true;
    if (rc == 0) {
        for (size_t i = 0; ok && i < g.gl_pathc; ++i) {  // sorted by glob(3)
            ok = include_file(g.gl_pathv[i], d, out, nesting, includes);
        }
    } else if (rc != GLOB_NOMATCH) {
        ok = fail("glob() \"" + path + "\" failed" + conf_where(d));
    }
    globfree(&g);
    return ok;
}

bool Parser::include_file(const std::string& path, const ConfNode& d, std::vector<ConfNode>* out,
                          int nesting, int includes)
{
    std::string text;
    std::string err;
    if (!read_file(path, &text, &err)) return fail(err + conf_where(d));
    return parse_text(text, path, out, nesting, includes + 1);
}

}  // namespace

bool parse_conf_file(const std::string& path, std::vector<ConfNode>* out, std::string* err,
                     const ConfParseOptions& opt)
{
    std::string text;
    if (!read_file(path, &text, err)) return false;
    Parser p(opt, err);
    return p.parse_text(text, path, out, 0, 0);
}

bool parse_conf_string(std::string_view text, const std::string& name, std::vector<ConfNode>* out,
                       std::string* err, const ConfParseOptions& opt)
{
    Parser p(opt, err);
    return p.parse_text(text, name, out, 0, 0);
}

}  // namespace strom
