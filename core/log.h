// The error log and the access log of one process. Lines look like nginx's:
//   2026/11/26 14:52:25 [info] 4242: *17 publish "live/cam" from 127.0.0.1:50312
// time, level, pid, connection id (omitted when 0), message. Writes are one write(2)
// per line on an O_APPEND fd, so lines of several processes never interleave.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <string>

#include "core/rc.h"

namespace strom {

enum class LogLevel : int { debug, info, notice, warn, error, crit, alert, emerg };

// "debug" .. "emerg" to a level; false when the word is not a level.
bool parse_log_level(const char* word, size_t len, LogLevel* out);
const char* log_level_name(LogLevel l);

class Log {
public:
    // Opens (or reopens) the error log; "stderr" means fd 2. Rc::error with errno set
    // when the file cannot be opened: the previous destination stays.
    static Rc open(const std::string& path, LogLevel level);
    static Rc reopen();                      // SIGUSR1: the same path again
    static Rc open_access(const std::string& path);   // "off" closes it
    static void set_level(LogLevel l) { level_ = l; }
    static LogLevel level() { return level_; }
    static bool enabled(LogLevel l) { return int(l) >= int(level_); }
    static const std::string& path() { return path_; }
    // The error log's descriptor (children write their stdout and stderr there).
    static int fd() { return fd_; }

    static void write(LogLevel l, uint64_t conn, const char* fmt, ...)
        __attribute__((format(printf, 3, 4)));
    static void vwrite(LogLevel l, uint64_t conn, const char* fmt, va_list ap);
    // One line to the access log (the time is prepended), if one is open.
    static void access(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

private:
    static inline LogLevel level_ = LogLevel::info;
    static inline int fd_ = 2;
    static inline int access_fd_ = -1;
    static inline std::string path_ = "stderr";
    static inline std::string access_path_;
};

}  // namespace strom

#define STROM_LOG(lvl, conn, ...)                                                   \
    do {                                                                            \
        if (::strom::Log::enabled(::strom::LogLevel::lvl))                          \
            ::strom::Log::write(::strom::LogLevel::lvl, (conn), __VA_ARGS__);       \
    } while (0)
