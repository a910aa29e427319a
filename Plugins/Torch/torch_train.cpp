// MLP training with libtorch's C++ API, written out as a real TorchScript archive.
//
// Determinism: every random draw (initial weights, shuffling, dropout masks) comes from one
// private CPU generator seeded from the request, never the global one, so two trainings in
// one process do not disturb each other and the same data and seed give the same model.
#include "ktrdr_torch.h"
#include "torch_internal.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/script.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace ktrdr_torch {

namespace {

struct Layers {
    std::vector<torch::Tensor> weights, biases;
};

// PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
Layers initialise(const std::vector<int64_t> &sizes, at::Generator &gen) {
    Layers l;
    for (size_t i = 0; i + 1 < sizes.size(); i++) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(sizes[i]));
        auto w = (at::rand({sizes[i + 1], sizes[i]}, gen, torch::kFloat32) * 2 - 1) * bound;
        auto b = (at::rand({sizes[i + 1]}, gen, torch::kFloat32) * 2 - 1) * bound;
        l.weights.push_back(w.set_requires_grad(true));
        l.biases.push_back(b.set_requires_grad(true));
    }
    return l;
}

torch::Tensor activate(const torch::Tensor &x, const std::string &kind) {
    if (kind == "tanh") return torch::tanh(x);
    if (kind == "sigmoid") return torch::sigmoid(x);
    return torch::relu(x);
}

torch::Tensor forward(const Layers &l, torch::Tensor x, const std::string &activation, double dropout, at::Generator *gen) {
    for (size_t i = 0; i < l.weights.size(); i++) {
        x = torch::addmm(l.biases[i], x, l.weights[i].t());
        if (i + 1 == l.weights.size()) break;
        x = activate(x, activation);
        if (gen && dropout > 0) {
            auto keep = at::bernoulli(torch::full_like(x, 1.0 - dropout), *gen);
            x = x * keep / (1.0 - dropout);
        }
    }
    return x;
}

double accuracy(const Layers &l, const torch::Tensor &x, const torch::Tensor &y, const std::string &activation) {
    if (x.size(0) == 0) return 0;
    torch::NoGradGuard guard;
    auto predicted = forward(l, x, activation, 0, nullptr).argmax(1);
    return predicted.eq(y).to(torch::kFloat64).mean().item<double>();
}

torch::Tensor matrix(const double *x, int64_t rows, int64_t cols) {
    if (rows == 0) return torch::zeros({0, cols}, torch::kFloat32);
    return torch::from_blob(const_cast<double *>(x), {rows, cols}, torch::kFloat64).to(torch::kFloat32);
}

torch::Tensor labels(const int64_t *y, int64_t rows) {
    if (rows == 0) return torch::zeros({0}, torch::kInt64);
    return torch::from_blob(const_cast<int64_t *>(y), {rows}, torch::kInt64).clone();
}

// A TorchScript module holding the trained parameters, with forward defined in TorchScript:
// loadable by torch.jit.load in Python and torch::jit::load here.
void save(const Layers &l, const std::string &activation, const std::string &path) {
    torch::jit::Module m("KtrdrMLP");
    std::ostringstream src;
    src << "def forward(self, x):\n";
    for (size_t i = 0; i < l.weights.size(); i++) {
        m.register_parameter("w" + std::to_string(i), l.weights[i].detach().clone(), false);
        m.register_parameter("b" + std::to_string(i), l.biases[i].detach().clone(), false);
        src << "    x = torch.addmm(self.b" << i << ", x, self.w" << i << ".t())\n";
        if (i + 1 < l.weights.size()) src << "    x = torch." << (activation == "tanh" || activation == "sigmoid" ? activation : "relu") << "(x)\n";
    }
    src << "    return x\n";
    m.define(src.str());
    m.eval();
    m.save(path);
}

} // namespace

int32_t train(const ktrdr_train_request *r, ktrdr_train_summary *summary, ktrdr_error *error) {
    try {
        if (!r || r->train_rows <= 0 || r->input_size <= 0 || r->output_size <= 0 || r->batch_size <= 0 || r->epochs <= 0) {
            ktrdr_error_set(error, KTRDR_ERR_RUNTIME, "train: empty training set or invalid sizes");
            return KTRDR_ERR_RUNTIME;
        }
        const std::string activation = r->activation ? r->activation : "relu";
        const std::string optimizerName = r->optimizer ? r->optimizer : "adam";
        auto gen = at::make_generator<at::CPUGeneratorImpl>(r->seed);
        std::vector<int64_t> sizes{r->input_size};
        for (int64_t i = 0; i < r->hidden_count; i++) sizes.push_back(r->hidden_layers[i]);
        sizes.push_back(r->output_size);
        Layers layers = initialise(sizes, gen);
        std::vector<torch::Tensor> params;
        for (size_t i = 0; i < layers.weights.size(); i++) { params.push_back(layers.weights[i]); params.push_back(layers.biases[i]); }
        std::unique_ptr<torch::optim::Optimizer> optimizer;
        if (optimizerName == "sgd") optimizer = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(r->learning_rate));
        else optimizer = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(r->learning_rate));

        auto trainX = matrix(r->train_x, r->train_rows, r->input_size), trainY = labels(r->train_y, r->train_rows);
        auto valX = matrix(r->val_x, r->val_rows, r->input_size), valY = labels(r->val_y, r->val_rows);
        auto testX = matrix(r->test_x, r->test_rows, r->input_size), testY = labels(r->test_y, r->test_rows);
        const int64_t n = r->train_rows;
        double lastLoss = 0, trainAcc = 0, valAcc = 0;
        int64_t epoch = 0;
        for (epoch = 1; epoch <= r->epochs; epoch++) {
            auto order = at::randperm(n, gen, torch::kInt64);
            double lossSum = 0;
            for (int64_t start = 0; start < n; start += r->batch_size) {
                auto idx = order.slice(0, start, std::min(n, start + r->batch_size));
                auto logits = forward(layers, trainX.index_select(0, idx), activation, r->dropout, &gen);
                auto loss = torch::nll_loss(torch::log_softmax(logits, 1), trainY.index_select(0, idx));
                optimizer->zero_grad();
                loss.backward();
                optimizer->step();
                lossSum += loss.item<double>() * idx.size(0);
            }
            lastLoss = lossSum / n;
            trainAcc = accuracy(layers, trainX, trainY, activation);
            valAcc = accuracy(layers, valX, valY, activation);
            if (r->on_epoch && r->on_epoch(r->context, epoch, lastLoss, trainAcc, valAcc) != 0) {
                ktrdr_error_set(error, KTRDR_ERR_CANCELLED, "training cancelled");
                return KTRDR_ERR_CANCELLED;
            }
        }
        save(layers, activation, r->output_path);
        if (summary) {
            summary->epochs_run = epoch - 1;
            summary->final_loss = lastLoss;
            summary->train_accuracy = trainAcc;
            summary->val_accuracy = valAcc;
            summary->test_accuracy = accuracy(layers, testX, testY, activation);
        }
        return KTRDR_OK;
    } catch (const std::exception &e) {
        ktrdr_error_set(error, KTRDR_ERR_RUNTIME, ("training failed: " + describe(e)).c_str());
        return KTRDR_ERR_RUNTIME;
    }
}

} // namespace ktrdr_torch
