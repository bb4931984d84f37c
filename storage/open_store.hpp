#pragma once
/// Opens the store a deployment is configured with, whichever its engine.

#include "durable_store.hpp"

#include <exception>
#include <memory>
#include <string>

namespace tpmbot {

/// A `postgres://` or `postgresql://` URL opens the PostgreSQL store; anything else is the
/// path of an SQLite database (":memory:" allowed). Either is migrated to the latest schema.
/// Throws std::runtime_error naming the database (a URL without its password) and the reason.
std::unique_ptr<durable_store> open_store(const std::string& where);

/// Whether `e`, thrown by either store, means the database cannot be written right now (a
/// full disk, a read-only file, a lost connection, a lock wait that timed out) rather than a
/// fault of the work itself: the same work may succeed later.
bool store_unwritable(const std::exception& e);

/// Whether `where` names a PostgreSQL database (by its URL scheme, as libpq reads it).
bool is_postgres_url(const std::string& where);

/// The libpq a PostgreSQL store loads (TPMBOT_LIBPQ: a path, or a file name the loader searches
/// for); empty means libpq.so.5 (Debian's libpq5). Takes effect if libpq is not loaded yet.
void use_libpq(std::string name);

} // namespace tpmbot
