#pragma once
/// A fresh directory under the system temp dir, removed with everything in it at scope end.

#include <filesystem>

namespace tpmbot::test {

class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    /// A path inside the directory.
    std::filesystem::path file(const char* name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

} // namespace tpmbot::test
