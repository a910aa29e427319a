// Shared between the translation units of the torch plugin; never included by C or Swift.
#pragma once
#include "ktrdr_plugin.h"
#include <exception>
#include <string>

namespace ktrdr_torch {
std::string describe(const std::exception &e);
int32_t train(const ktrdr_train_request *request, ktrdr_train_summary *summary, ktrdr_error *error);
}
