#include "pq.hpp"

#include "open_store.hpp"

#include <dlfcn.h>
#include <mutex>
#include <stdexcept>
#include <string>

namespace tpmbot::pq {

namespace {

/// The symbol `name` of `lib`, as the type of `T`; throws when it is missing.
template <class T>
void bind(void* lib, const char* name, T& out) {
    void* sym = ::dlsym(lib, name);
    if (sym == nullptr) {
        throw std::runtime_error(std::string("PostgreSQL support: libpq has no ") + name +
                                 " (an old libpq?)");
    }
    out = reinterpret_cast<T>(sym);
}

std::mutex library_mutex;
std::string library = "libpq.so.5"; ///< use_libpq

functions load() {
    std::string name;
    {
        std::lock_guard lock(library_mutex);
        name = library;
    }
    // Never unloaded: connections may live until the process ends.
    void* lib = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* why = ::dlerror();
        throw std::runtime_error("PostgreSQL support needs libpq (" + name +
                                 "; Debian's libpq5), which cannot be loaded: " +
                                 (why != nullptr ? why : "unknown error"));
    }
    functions f{};
#define TPMBOT_BIND(member, symbol) bind(lib, #symbol, f.member)
    TPMBOT_BIND(clear, PQclear);
    TPMBOT_BIND(cmdStatus, PQcmdStatus);
    TPMBOT_BIND(cmdTuples, PQcmdTuples);
    TPMBOT_BIND(connectdb, PQconnectdb);
    TPMBOT_BIND(connectdbParams, PQconnectdbParams);
    TPMBOT_BIND(errorMessage, PQerrorMessage);
    TPMBOT_BIND(exec, PQexec);
    TPMBOT_BIND(execParams, PQexecParams);
    TPMBOT_BIND(execPrepared, PQexecPrepared);
    TPMBOT_BIND(finish, PQfinish);
    TPMBOT_BIND(fname, PQfname);
    TPMBOT_BIND(getisnull, PQgetisnull);
    TPMBOT_BIND(getlength, PQgetlength);
    TPMBOT_BIND(getvalue, PQgetvalue);
    TPMBOT_BIND(ntuples, PQntuples);
    TPMBOT_BIND(prepare, PQprepare);
    TPMBOT_BIND(reset, PQreset);
    TPMBOT_BIND(resultErrorField, PQresultErrorField);
    TPMBOT_BIND(resultErrorMessage, PQresultErrorMessage);
    TPMBOT_BIND(resultStatus, PQresultStatus);
    TPMBOT_BIND(setNoticeProcessor, PQsetNoticeProcessor);
    TPMBOT_BIND(status, PQstatus);
    TPMBOT_BIND(transactionStatus, PQtransactionStatus);
#undef TPMBOT_BIND
    return f;
}

} // namespace

const functions& api() {
    // A failed load throws out of the initializer, so the next call tries again.
    static const functions loaded = load();
    return loaded;
}

} // namespace tpmbot::pq

void tpmbot::use_libpq(std::string name) {
    std::lock_guard lock(pq::library_mutex);
    pq::library = name.empty() ? "libpq.so.5" : std::move(name);
}
