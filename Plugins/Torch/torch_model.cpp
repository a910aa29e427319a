// Loading and batched inference of TorchScript models, and the plugin descriptor.
#include "ktrdr_torch.h"
#include "torch_internal.hpp"

#include <ATen/Parallel.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace ktrdr_torch {

std::string describe(const std::exception &e) {
    // c10::Error::what() carries a C++ backtrace; what_without_backtrace() does not.
    if (auto c10 = dynamic_cast<const c10::Error *>(&e)) return c10->what_without_backtrace();
    return e.what();
}

struct Model {
    torch::jit::Module module;
    int64_t inputs = -1;
    int64_t outputs = -1;
};

// First and last 2-D parameter: the input width of the first layer, the classes of the last.
static void inferShape(Model &m) {
    for (const auto &p : m.module.named_parameters(true)) {
        if (p.value.dim() != 2) continue;
        if (m.inputs < 0) m.inputs = p.value.size(1);
        m.outputs = p.value.size(0);
    }
}

static void *load(const char *path, ktrdr_error *error) {
    try {
        auto m = std::make_unique<Model>();
        m->module = torch::jit::load(path);
        m->module.eval();
        inferShape(*m);
        return m.release();
    } catch (const std::exception &e) {
        ktrdr_error_set(error, KTRDR_ERR_MODEL, ("not a loadable TorchScript archive: " + describe(e)).c_str());
        return nullptr;
    }
}

static void release(void *model) { delete static_cast<Model *>(model); }
static int64_t inputSize(void *model) { return static_cast<Model *>(model)->inputs; }
static int64_t outputSize(void *model) { return static_cast<Model *>(model)->outputs; }

static constexpr int64_t kBatchRows = 65536;

static int32_t predict(void *model, const double *x, int64_t rows, int64_t cols, double *out, ktrdr_error *error) {
    auto *m = static_cast<Model *>(model);
    try {
        c10::InferenceMode guard;
        for (int64_t start = 0; start < rows; start += kBatchRows) {
            const int64_t n = std::min(kBatchRows, rows - start);
            auto input = torch::from_blob(const_cast<double *>(x + start * cols), {n, cols}, torch::kFloat64).to(torch::kFloat32);
            auto logits = m->module.forward({input}).toTensor();
            if (logits.dim() != 2 || logits.size(0) != n) {
                ktrdr_error_set(error, KTRDR_ERR_MODEL, "the model's forward must return a [rows, classes] tensor");
                return KTRDR_ERR_MODEL;
            }
            auto probs = torch::softmax(logits, 1).to(torch::kFloat64).contiguous();
            std::memcpy(out + start * probs.size(1), probs.data_ptr<double>(), sizeof(double) * n * probs.size(1));
        }
        return KTRDR_OK;
    } catch (const std::exception &e) {
        ktrdr_error_set(error, KTRDR_ERR_MODEL, ("inference failed: " + describe(e)).c_str());
        return KTRDR_ERR_MODEL;
    }
}

static void setThreads(int32_t threads) {
    if (threads > 0) at::set_num_threads(threads);
}

} // namespace ktrdr_torch

extern "C" const char *ktrdr_torch_version(void) { return TORCH_VERSION; }

extern "C" const ktrdr_plugin_info *ktrdr_plugin_descriptor(void) {
    static const ktrdr_model_table table = [] {
        ktrdr_model_table t{};
        t.load = ktrdr_torch::load;
        t.release = ktrdr_torch::release;
        t.input_size = ktrdr_torch::inputSize;
        t.output_size = ktrdr_torch::outputSize;
        t.predict = ktrdr_torch::predict;
        t.train = ktrdr_torch::train;
        t.set_threads = ktrdr_torch::setThreads;
        return t;
    }();
    static const std::string signature = std::string("libtorch=") + TORCH_VERSION;
    static const ktrdr_plugin_info info = [] {
        ktrdr_plugin_info i{};
        i.magic = KTRDR_PLUGIN_MAGIC;
        i.abi_major = KTRDR_PLUGIN_ABI_MAJOR;
        i.abi_minor = KTRDR_PLUGIN_ABI_MINOR;
        i.struct_size = sizeof(ktrdr_plugin_info);
        i.build_signature = signature.c_str();
        i.kind = KTRDR_PLUGIN_MODEL;
        i.name = "torch";
        i.version = "1.0.0";
        i.description = "TorchScript models on libtorch " TORCH_VERSION ": batched inference, MLP training";
        i.model = &table;
        return i;
    }();
    return &info;
}
