#include "core/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace strom {

namespace {

constexpr const char* kNames[] = {"debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"};

int open_append(const std::string& path)
{
    if (path == "stderr") return 2;
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

size_t format_time(char* buf, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    return strftime(buf, len, "%Y/%m/%d %H:%M:%S", &tm);
}

void write_all(int fd, const char* p, size_t n)
{
    while (n > 0) {
        ssize_t k = ::write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return;   // nothing sensible to do when the log itself fails
        }
        p += k;
        n -= size_t(k);
    }
}

}  // namespace

bool parse_log_level(const char* word, size_t len, LogLevel* out)
{
    for (int i = 0; i < 8; ++i) {
        if (strlen(kNames[i]) == len && memcmp(kNames[i], word, len) == 0) {
            *out = LogLevel(i);
            return true;
        }
    }
    return false;
}

const char* log_level_name(LogLevel l) { return kNames[int(l)]; }

Rc Log::open(const std::string& path, LogLevel level)
{
    int fd = open_append(path);
    if (fd < 0) return Rc::error;
    if (fd_ > 2 && fd_ != fd) ::close(fd_);
    fd_ = fd;
    path_ = path;
    level_ = level;
    return Rc::ok;
}

Rc Log::reopen()
{
    Rc rc = open(path_, level_);
    if (!access_path_.empty()) {
        if (open_access(access_path_) != Rc::ok) rc = Rc::error;
    }
    return rc;
}

Rc Log::open_access(const std::string& path)
{
    if (access_fd_ > 2) ::close(access_fd_);
    access_fd_ = -1;
    access_path_.clear();
    if (path.empty() || path == "off") return Rc::ok;
    int fd = open_append(path);
    if (fd < 0) return Rc::error;
    access_fd_ = fd;
    access_path_ = path;
    return Rc::ok;
}

void Log::vwrite(LogLevel l, uint64_t conn, const char* fmt, va_list ap)
{
    char line[2048];
    size_t n = format_time(line, sizeof(line));
    int k = conn ? snprintf(line + n, sizeof(line) - n, " [%s] %d: *%llu ", kNames[int(l)],
                            int(getpid()), (unsigned long long)conn)
                 : snprintf(line + n, sizeof(line) - n, " [%s] %d: ", kNames[int(l)], int(getpid()));
    n += size_t(k);
    k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    if (k < 0) k = 0;
    n += size_t(k) < sizeof(line) - n - 1 ? size_t(k) : sizeof(line) - n - 2;
    // A log line is one line: control characters from peers never split it.
    for (size_t i = 0; i < n; ++i) {
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    }
    line[n++] = '\n';
    write_all(fd_, line, n);
}

void Log::write(LogLevel l, uint64_t conn, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwrite(l, conn, fmt, ap);
    va_end(ap);
}

void Log::access(const char* fmt, ...)
{
    if (access_fd_ < 0) return;
    char line[2048];
    size_t n = format_time(line, sizeof(line));
    line[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (k < 0) k = 0;
    n += size_t(k) < sizeof(line) - n - 1 ? size_t(k) : sizeof(line) - n - 2;
    for (size_t i = 0; i < n; ++i) {
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    }
    line[n++] = '\n';
    write_all(access_fd_, line, n);
}

}  // namespace strom
