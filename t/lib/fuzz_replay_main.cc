// Replays libFuzzer corpus files through a fuzz target built with g++ and the
// sanitizers, so `make test` keeps every past crash fixed without needing clang.
// Usage: X_replay FILE|DIR ...   Exit status 0 when every input ran.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int run_file(const std::string& path)
{
    FILE* f = fopen(path.c_str(), "rb");
    if (!f) {
        perror(path.c_str());
        return 1;
    }
    std::vector<uint8_t> buf;
    uint8_t tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) buf.insert(buf.end(), tmp, tmp + n);
    fclose(f);
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
    return 0;
}

int main(int argc, char** argv)
{
    int inputs = 0;
    for (int i = 1; i < argc; ++i) {
        struct stat st;
        if (stat(argv[i], &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            DIR* d = opendir(argv[i]);
            if (!d) continue;
            std::vector<std::string> names;
            while (dirent* e = readdir(d)) {
                if (e->d_name[0] != '.') names.push_back(std::string(argv[i]) + "/" + e->d_name);
            }
            closedir(d);
            for (auto& p : names) {
                if (run_file(p)) return 1;
                ++inputs;
            }
        } else {
            if (run_file(argv[i])) return 1;
            ++inputs;
        }
    }
    printf("replayed %d inputs\n", inputs);
    return 0;
}
