#pragma once
/// Environment variables for a test of the configuration: a map the parser reads through an
/// `env_fn`.

#include "config.hpp"

#include <map>
#include <string>

namespace tpmbot::test {

struct fake_env {
    std::map<std::string, std::string> vars;
    env_fn fn() const {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

} // namespace tpmbot::test
