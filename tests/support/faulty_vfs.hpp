#pragma once
/// A SQLite VFS for fault tests: SQLite's default one, except that while `full` is set every
/// write fails (with SQLITE_FULL, as on a full disk, or another error). While a `faulty_vfs` lives
/// it is the default VFS of the process, so every connection opened meanwhile (the bot's, the
/// checkpointer's, the test's) goes through it; the files it makes are ordinary files.

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <sqlite3.h>

namespace tpmbot::test {

class faulty_vfs {
public:
    faulty_vfs() {
        real_ = sqlite3_vfs_find(nullptr);
        REQUIRE(real_ != nullptr);
        vfs_ = *real_;
        vfs_.zName = "tpmbot-faulty";
        vfs_.pAppData = this;
        vfs_.xOpen = &faulty_vfs::open;
        instance() = this;
        REQUIRE(sqlite3_vfs_register(&vfs_, 1) == SQLITE_OK);
    }

    ~faulty_vfs() {
        sqlite3_vfs_register(real_, 1);
        sqlite3_vfs_unregister(&vfs_);
        instance() = nullptr;
    }

    faulty_vfs(const faulty_vfs&) = delete;
    faulty_vfs& operator=(const faulty_vfs&) = delete;

    /// While true, writes fail with `error` (reads and everything else still work).
    std::atomic<bool> full{false};
    /// What a refused write answers: SQLITE_FULL (a full disk), SQLITE_IOERR_WRITE (a failing
    /// disk) or SQLITE_READONLY (a file made read-only).
    std::atomic<int> error{SQLITE_FULL};
    /// Writes refused so far.
    std::atomic<int> refused{0};

private:
    // The file is the default VFS's own; only its method table is swapped for a copy whose
    // xWrite can refuse (each method is handed the same file it would have been handed). The
    // database, its journal and its WAL use different tables, so each gets its own copy.
    static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
                    int* out_flags) {
        auto* self = static_cast<faulty_vfs*>(vfs->pAppData);
        int rc = self->real_->xOpen(self->real_, name, file, flags, out_flags);
        if (rc != SQLITE_OK || file->pMethods == nullptr) {
            return rc;
        }
        std::lock_guard lock(self->tables_mutex_); // connections open on several threads
        for (auto& t : self->tables_) {
            if (t.real == nullptr) {
                t.real = file->pMethods;
                t.copy = *file->pMethods;
                t.copy.xWrite = &faulty_vfs::write;
            }
            if (t.real == file->pMethods) {
                file->pMethods = &t.copy;
                return rc;
            }
        }
        FAIL("faulty_vfs: more method tables than it keeps");
        return rc;
    }

    static int write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
        auto* self = instance();
        if (self->full.load()) {
            ++self->refused;
            return self->error.load();
        }
        for (const auto& t : self->tables_) {
            if (file->pMethods == &t.copy) {
                return t.real->xWrite(file, data, amount, offset);
            }
        }
        return SQLITE_IOERR_WRITE;
    }

    static faulty_vfs*& instance() {
        static faulty_vfs* current = nullptr;
        return current;
    }

    struct table {
        const sqlite3_io_methods* real = nullptr;
        sqlite3_io_methods copy{};
    };
    sqlite3_vfs* real_ = nullptr;
    sqlite3_vfs vfs_{};
    std::mutex tables_mutex_;
    std::array<table, 4> tables_{}; ///< filled once each; read without the lock after
};

} // namespace tpmbot::test
