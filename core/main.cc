// strom's command line, as nginx's: -t, -c, -p, -g, -s reload|stop|quit|reopen, -v, -V.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/core_module.h"
#include "core/cycle.h"
#include "core/log.h"
#include "core/module.h"
#include "core/process.h"
#include "core/version.h"

namespace strom {
// Defined in modules/module_list.cc: THE module order.
std::span<Module* const> strom_modules();
}  // namespace strom

using namespace strom;

namespace {

void usage(FILE* out)
{
    fprintf(out,
            "Usage: strom [-?hvVt] [-s signal] [-p prefix] [-c filename] [-g directives]\n\n"
            "Options:\n"
            "  -?,-h         : this help\n"
            "  -v            : show version and exit\n"
            "  -V            : show version and build options and exit\n"
            "  -t            : test configuration and exit\n"
            "  -s signal     : send signal to the master process: stop, quit, reopen, reload\n"
            "  -p prefix     : set prefix path (default: the current directory)\n"
            "  -c filename   : set configuration file (default: conf/strom.conf)\n"
            "  -g directives : set global directives out of the configuration file\n");
}

int send_signal(const Cycle& cycle, const char* name)
{
    int sig = 0;
    if (!strcmp(name, "stop")) sig = SIGTERM;
    else if (!strcmp(name, "quit")) sig = SIGQUIT;
    else if (!strcmp(name, "reopen")) sig = SIGUSR1;
    else if (!strcmp(name, "reload")) sig = SIGHUP;
    else {
        fprintf(stderr, "strom: invalid option: \"-s %s\"\n", name);
        return 1;
    }
    const std::string& pid_path = core_conf(cycle).pid;
    FILE* f = fopen(pid_path.c_str(), "r");
    if (!f) {
        fprintf(stderr, "strom: [error] open() \"%s\" failed (%d: %s)\n", pid_path.c_str(), errno,
                strerror(errno));
        return 1;
    }
    long pid = 0;
    int n = fscanf(f, "%ld", &pid);
    fclose(f);
    if (n != 1 || pid <= 0) {
        fprintf(stderr, "strom: [error] invalid PID number in \"%s\"\n", pid_path.c_str());
        return 1;
    }
    if (kill(pid_t(pid), sig) != 0) {
        fprintf(stderr, "strom: [error] kill(%ld, %d) failed (%d: %s)\n", pid, sig, errno, strerror(errno));
        return 1;
    }
    return 0;
}

bool write_pid(const std::string& path)
{
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d\n", int(getpid()));
    bool ok = write(fd, buf, size_t(n)) == n;
    close(fd);
    return ok;
}

bool daemonize()
{
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid > 0) _exit(0);
    if (setsid() < 0) return false;
    umask(022);
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) return false;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    if (Log::path() != "stderr") dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) close(fd);
    return true;
}

}  // namespace

int main(int argc, char** argv)
{
    ProcessOptions opt;
    bool test_only = false;
    const char* sig = nullptr;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (a[0] != '-' || a[1] == '\0' || a[2] != '\0') {
            fprintf(stderr, "strom: invalid option: \"%s\"\n", a);
            return 1;
        }
        auto value = [&](const char* what) -> const char* {
            if (i + 1 >= argc) {
                fprintf(stderr, "strom: option \"%s\" requires %s\n", a, what);
                exit(1);
            }
            return argv[++i];
        };
        switch (a[1]) {
        case '?':
        case 'h': usage(stdout); return 0;
        case 'v': fprintf(stderr, "strom version: strom/%s\n", kStromVersion); return 0;
        case 'V':
            fprintf(stderr, "strom version: strom/%s\nbuilt with g++ %s, C++20\n", kStromVersion, __VERSION__);
            return 0;
        case 't': test_only = true; break;
        case 's': sig = value("signal name"); break;
        case 'p': opt.prefix = value("directory name"); break;
        case 'c': opt.conf_path = value("file name"); break;
        case 'g': opt.global = value("directives"); break;
        default:
            fprintf(stderr, "strom: invalid option: \"%s\"\n", a);
            return 1;
        }
    }
    if (opt.prefix.empty()) {
        char cwd[4096];
        opt.prefix = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
    }
    if (opt.prefix.back() != '/') opt.prefix += '/';
    if (opt.conf_path.empty()) opt.conf_path = "conf/strom.conf";
    if (opt.conf_path[0] != '/') opt.conf_path = opt.prefix + opt.conf_path;

    std::string err;
    std::unique_ptr<Cycle> cycle = Cycle::load(strom_modules(), opt.conf_path, opt.prefix, opt.global, &err);
    if (!cycle) {
        fprintf(stderr, "strom: [emerg] %s\n", err.c_str());
        if (test_only) fprintf(stderr, "strom: configuration file %s test failed\n", opt.conf_path.c_str());
        return 1;
    }
    if (test_only) {
        fprintf(stderr, "strom: the configuration file %s syntax is ok\n", opt.conf_path.c_str());
        fprintf(stderr, "strom: configuration file %s test is successful\n", opt.conf_path.c_str());
        return 0;
    }
    if (sig) return send_signal(*cycle, sig);

    const CoreConf& cc = core_conf(*cycle);
    if (Log::open(cc.error_log, cc.error_log_level) != Rc::ok) {
        fprintf(stderr, "strom: [emerg] open() \"%s\" failed (%d: %s)\n", cc.error_log.c_str(), errno,
                strerror(errno));
        return 1;
    }
    if (Log::open_access(cc.access_log) != Rc::ok) {
        fprintf(stderr, "strom: [emerg] open() \"%s\" failed (%d: %s)\n", cc.access_log.c_str(), errno,
                strerror(errno));
        return 1;
    }
    if (cc.daemon && !daemonize()) {
        fprintf(stderr, "strom: [emerg] daemonizing failed (%d: %s)\n", errno, strerror(errno));
        return 1;
    }
    if (!write_pid(cc.pid)) {
        STROM_LOG(emerg, 0, "open() \"%s\" failed (%d: %s)", cc.pid.c_str(), errno, strerror(errno));
        return 1;
    }
    return run_master(strom_modules(), opt, std::move(cycle));
}
