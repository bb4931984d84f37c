#include "open_store.hpp"

#include "pg_store.hpp"
#include "sqlite_store.hpp"

namespace tpmbot {

bool is_postgres_url(const std::string& where) {
    return where.starts_with("postgresql://") || where.starts_with("postgres://");
}

std::unique_ptr<durable_store> open_store(const std::string& where) {
    if (is_postgres_url(where)) {
        return std::make_unique<pg_store>(where);
    }
    return std::make_unique<sqlite_store>(where);
}

bool store_unwritable(const std::exception& e) {
    return sqlite_store::unwritable(e) || pg_store::unwritable(e);
}

} // namespace tpmbot
