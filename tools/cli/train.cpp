// sgm-train — train the U-Net score network on MNIST or Fashion-MNIST.
//
// Continuous denoising score matching under the VE, VP or sub-VP SDE, Adam with
// warm-up and gradient clipping, an EMA of the weights, a progress bar, a CSV log
// and checkpoints (bit-identical resume with --resume; --init starts a new run
// from a trained model's weights, to train it further). The result,
// OUT/weights.safetensors, holds the EMA weights together with everything needed
// to rebuild the model (network, SDE, pixel range) and how it was trained; every
// other tool reads it.
//
//   sgm-train --sde vp --steps 20000 --out runs/mnist_vp
//   sgm-sample --model runs/mnist_vp/weights.safetensors --out digits.png
//
// sgm-train-cuda is this program compiled by nvcc (SGM_ENABLE_CUDA=ON): with
// --device cuda (its default) the U-Net is an nn::backend_unet and the loss,
// Adam and the EMA run on the GPU; checkpoints and weights are the same files.

#include <sgm/data/scaling.hpp>
#include <sgm/models/image_model.hpp>
#include <sgm/models/sde_spec.hpp>
#include <sgm/nn/backend_unet.hpp>
#include <sgm/nn/score_network.hpp>
#include <sgm/nn/unet.hpp>
#include <sgm/train/checkpoint.hpp>
#include <sgm/train/continuous_dsm_loss.hpp>
#include <sgm/train/trainer.hpp>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#if SGM_CUDA_COMPILER
#include <cuda_runtime.h>

#include <sgm/backend/thrust.hpp>
#endif

#include "../../examples/common/loss_curve.hpp"
#include "datasets.hpp"
#include "flags.hpp"

namespace {

using Real = float;

struct settings {
    std::string dataset = "mnist";
    std::filesystem::path data_dir;
    std::string sde = "vp";
    double schedule_min = -1, schedule_max = -1;  // σ or β range; < 0: the SDE's default
    std::string range = "auto";
    std::string weighting = "sigma2";
    std::size_t base_channels = 32, blocks = 2;
    std::string multipliers = "1,2,2", attention = "7";
    double dropout = 0.1;
    std::size_t steps = 20000, batch = 64, warmup = 1000, checkpoint_every = 500, log_every = 50;
    double learning_rate = 2e-4, ema = 0.999, grad_clip = 1;
    int threads = 0;
    std::uint64_t seed = 2021;
    std::filesystem::path out = "sgm_train_output";
    bool resume = false;
    std::filesystem::path init;  // weights file to start from (fine-tuning); empty: random initialization
    std::string device = SGM_CUDA_COMPILER ? "cuda" : "cpu";
};

std::vector<std::size_t> size_list(const std::string& flag, const std::string& text) {
    std::vector<std::size_t> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
        out.push_back(static_cast<std::size_t>(cli::detail::parse_integer(flag, item, 1, 4096, "a positive integer")));
    if (out.empty()) throw cli::usage_error(flag + " '" + text + "' is not a comma-separated list of sizes");
    return out;
}

sgm::models::image_model_spec model_spec(const settings& s, std::size_t channels, std::size_t height,
                                         std::size_t width, const std::string& data_text) {
    sgm::models::image_model_spec m;
    m.sde = sgm::models::default_sde_spec(sgm::models::parse_sde_kind(s.sde));
    if (m.sde.kind == sgm::models::sde_kind::ve) m.sde.second = 25;  // ≈ the largest distance between two digits
    if (s.schedule_min >= 0) m.sde.first = s.schedule_min;
    if (s.schedule_max >= 0) m.sde.second = s.schedule_max;
    // VE models the data in [0, 1] as the paper's SMLD does; VP and sub-VP in [-1, 1].
    if (s.range == "auto")
        m.range = m.sde.kind == sgm::models::sde_kind::ve ? sgm::data::pixel_range::unit : sgm::data::pixel_range::symmetric;
    else
        m.range = s.range == "unit" ? sgm::data::pixel_range::unit : sgm::data::pixel_range::symmetric;
    m.data = data_text;
    auto& n = m.network;
    n.channels = channels;
    n.height = height;
    n.width = width;
    n.base_channels = s.base_channels;
    n.multipliers = size_list("--multipliers", s.multipliers);
    n.blocks_per_level = s.blocks;
    n.attention_resolutions = s.attention == "none" ? std::vector<std::size_t>{} : size_list("--attention", s.attention);
    n.dropout = s.dropout;
    n.seed = s.seed;
    return m;
}

// The weights file's training.* entries of a model the run starts from (--init).
struct init_record {
    std::string steps, command;
};

// Loads a trained model's weights into `params` for --init. The file must describe the
// same network, SDE, pixel range and data as this run; only dropout and the training
// settings may differ. The weights go into the parameters, and so into the EMA, which
// the trainer starts from the parameters.
init_record load_init(const std::filesystem::path& path, const sgm::models::image_model_spec& spec,
                      const sgm::nn::parameter_list<Real>& params) {
    const auto file = sgm::io::read_safetensors(path);
    const auto stored = sgm::train::read_weights_config(file, path.string());
    for (const auto& [key, value] : sgm::models::to_config(spec)) {
        if (key == "unet.dropout") continue;
        const auto it = stored.find(key);
        if (it == stored.end())
            throw cli::usage_error("--init " + path.string() + ": the file has no '" + key + "' (this run: '" +
                                   value + "')");
        if (it->second != value)
            throw cli::usage_error("--init " + path.string() + ": the file's " + key + " is '" + it->second +
                                   "', this run's is '" + value + "' (set the flags to match the model)");
    }
    params.assign_values(sgm::train::read_weights(file, params, nullptr, path.string()));
    const auto text = [&](const char* key) {
        const auto it = stored.find(key);
        return it == stored.end() ? std::string("unknown") : it->second;
    };
    return {text("training.steps"), text("training.command")};
}

// The run, for a score model over the host unet or (--device cuda) a backend_unet.
template <class Model, class SDE>
int train(const settings& s, Model& model, const SDE& sde, const sgm::models::image_model_spec& spec,
          sgm::data::image_set<Real>& data, const std::string& command, const std::optional<init_record>& init) {
    auto config = sgm::models::to_config(spec);
    config["training.batch"] = std::to_string(s.batch);
    config["training.learning_rate"] = cli::detail::show(s.learning_rate);
    config["training.warmup"] = std::to_string(s.warmup);
    config["training.ema"] = cli::detail::show(s.ema);
    config["training.grad_clip"] = cli::detail::show(s.grad_clip);
    config["training.weighting"] = s.weighting;
    config["training.seed"] = std::to_string(s.seed);
    if (init) {  // provenance: what the run started from (checked again on --resume)
        config["training.init_steps"] = init->steps;
        config["training.init_command"] = init->command;
    }

    sgm::train::trainer_options o;
    o.steps = s.steps;
    o.batch_size = s.batch;
    o.seed = s.seed;
    o.ema_rate = s.ema;
    o.adam.learning_rate = s.learning_rate;
    o.adam.warmup = s.warmup;
    o.adam.grad_clip = s.grad_clip;
    o.checkpoint_path = s.out / "checkpoint.safetensors";
    o.checkpoint_every = s.checkpoint_every;
    o.log_csv_path = s.out / "loss.csv";
    o.log_every = s.log_every;
    o.progress = true;
    o.sampling = sgm::train::data_sampling::shuffled_epochs;
    sgm::train::dsm_options loss_options;
    loss_options.weighting =
        s.weighting == "likelihood" ? sgm::train::dsm_weighting::likelihood : sgm::train::dsm_weighting::sigma_squared;
    sgm::train::trainer trainer(model, sgm::train::continuous_dsm_loss<SDE>(sde, loss_options),
                                std::span<const Real>(data.pixels()), data.size(), o, config);
    if (init)
        std::printf("starting from %s (%s steps of: %s)\n", s.init.string().c_str(), init->steps.c_str(),
                    init->command.c_str());
    if (s.resume && std::filesystem::exists(o.checkpoint_path)) {
        trainer.resume(o.checkpoint_path);
        std::printf("resumed from %s at step %llu\n", o.checkpoint_path.string().c_str(),
                    static_cast<unsigned long long>(trainer.step()));
    }
    const std::string where = s.device == "cuda" ? std::string("on the GPU")
                                                 : std::to_string(sgm::nn::cpu_context(s.threads).threads()) + " threads";
    std::printf("training: %zu steps of batch %zu on %zu images (%s), %s SDE, %zu parameters, %s\n", s.steps,
                s.batch, data.size(), s.dataset.c_str(), sgm::models::to_string(spec.sde).c_str(),
                trainer.parameters().trainable_count(), where.c_str());
    std::fflush(stdout);
    const auto summary = trainer.train();
    if (summary.last_step > summary.first_step)
        std::printf("trained steps %llu..%llu in %.0f s (%.2f steps/s, %.0f images/s); loss %.4f\n",
                    static_cast<unsigned long long>(summary.first_step),
                    static_cast<unsigned long long>(summary.last_step), summary.seconds, summary.steps_per_second,
                    summary.steps_per_second * double(s.batch), summary.final_loss);

    // The EMA weights with the model description and the training provenance.
    const auto params = trainer.parameters();
    auto weights_config = sgm::models::to_config(spec);
    for (const auto& [key, value] : config)
        if (key.starts_with("training.")) weights_config[key] = value;
    weights_config["training.steps"] = std::to_string(trainer.step());
    weights_config["training.command"] = command;
    weights_config["training.final_loss"] = cli::detail::show(summary.final_loss);
    sgm::train::save_weights(s.out / "weights.safetensors", params, trainer.average().shadow(), weights_config);

    std::vector<double> steps, losses;
    examples::read_loss_log(o.log_csv_path, steps, losses);
    const bool png = examples::draw_loss_curve(steps, losses, s.out / "loss.png",
                                               s.dataset + ", " + s.sde + " SDE: training loss");
    std::printf("wrote %s/: weights.safetensors (EMA), checkpoint.safetensors, loss.csv%s\n", s.out.string().c_str(),
                png ? ", loss.png" : "");
    return 0;
}

template <class SDE>
int train(const settings& s, const SDE& sde, const sgm::models::image_model_spec& spec,
          sgm::data::image_set<Real>& data, const std::string& command) {
    sgm::nn::unet<Real> net(spec.network, sgm::nn::cpu_context(s.threads));
    std::optional<init_record> init;
    if (!s.init.empty()) init = load_init(s.init, spec, net.parameters());
    if (s.device == "cuda") {
#if SGM_CUDA_COMPILER
        int devices = 0;
        if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
            throw sgm::error("--device cuda: no CUDA device is visible (use --device cpu)");
        using gpu = sgm::thrust_backend<Real, sgm::thrust_cuda>;
        sgm::nn::score_network model(sgm::nn::backend_unet<gpu>(std::move(net)), sde, spec.score, gpu{});
        return train(s, model, sde, spec, data, command, init);
#endif
    }
    sgm::nn::score_network model(std::move(net), sde, spec.score, sgm::tbb_backend<Real>(s.threads));
    return train(s, model, sde, spec, data, command, init);
}

int run(int argc, char** argv) {
    settings s;
    cli::flags f("sgm-train", "Train the U-Net score network on an image data set with denoising score matching.");
    f.add("--data", s.dataset, "NAME", "data set", cli::dataset_names);
    f.add("--data-dir", s.data_dir, "DIR", "folder of the data set (default: data/mnist or Debian's folder)");
    f.add("--sde", s.sde, "KIND", "SDE", {"ve", "vp", "subvp"});
    f.add("--schedule-min", s.schedule_min, "X", "sigma_min (VE) or beta_min (VP); < 0: 0.01 or 0.1");
    f.add("--schedule-max", s.schedule_max, "X", "sigma_max (VE) or beta_max (VP); < 0: 25 or 20");
    f.add("--range", s.range, "R", "pixel range the model sees (auto: unit for VE, symmetric otherwise)",
          {"auto", "unit", "symmetric"});
    f.add("--weighting", s.weighting, "W", "DSM weighting lambda(t)", {"sigma2", "likelihood"});
    f.add("--base-channels", s.base_channels, "C", "U-Net channels at full resolution");
    f.add("--multipliers", s.multipliers, "LIST", "channel multiplier per resolution level");
    f.add("--blocks", s.blocks, "N", "residual blocks per level");
    f.add("--attention", s.attention, "LIST", "resolutions (heights) with self-attention, or none");
    f.add("--dropout", s.dropout, "P", "dropout rate in the residual blocks", 0, 0.99);
    f.add("--steps", s.steps, "N", "training steps in all (a resumed run continues up to N)");
    f.add("--batch", s.batch, "N", "batch size");
    f.add("--lr", s.learning_rate, "X", "Adam learning rate", 1e-8, 1);
    f.add("--warmup", s.warmup, "N", "linear learning-rate warm-up steps", true);
    f.add("--grad-clip", s.grad_clip, "X", "global gradient-norm clip (0 = none)", 0);
    f.add("--ema", s.ema, "RATE", "EMA decay of the weights", 0, 1);
    f.add("--threads", s.threads, "N", "worker threads (0 = all cores)");
    f.add_seed("--seed", s.seed, "N", "seed of initialization, data order and noise");
    f.add("--out", s.out, "DIR", "output folder");
    f.add("--checkpoint-every", s.checkpoint_every, "N", "steps between checkpoints");
    f.add("--log-every", s.log_every, "N", "steps per CSV log row");
    f.add("--resume", s.resume, "continue from OUT/checkpoint.safetensors if it exists");
    f.add("--init", s.init, "FILE",
          "start from this trained model's weights (same network, SDE and data; new optimizer state)");
    f.add("--device", s.device, "cpu|cuda", "where the network, the loss and the optimizer run (cuda: sgm-train-cuda)",
          {"cpu", "cuda"});
    f.parse(argc, argv);
    if (s.ema >= 1) throw cli::usage_error("--ema " + cli::detail::show(s.ema) + " must be below 1");
    if (s.device == "cuda" && !SGM_CUDA_COMPILER)
        throw cli::usage_error("--device cuda: this sgm-train was built without CUDA; configure with "
                               "-DSGM_ENABLE_CUDA=ON and run sgm-train-cuda");

    std::string command = "sgm-train";
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];

    auto data = cli::load_dataset<Real>(s.dataset, s.data_dir, "train");
    const auto spec = model_spec(s, data.channels(), data.height(), data.width(),
                                 cli::describe_dataset(s.dataset, data.size()));
    sgm::data::to_range(data.pixels(), spec.range);
    std::filesystem::create_directories(s.out);
    return sgm::models::visit_sde<Real>(spec.sde, 0,
                                        [&](const auto& sde) { return train(s, sde, spec, data, command); });
}

}  // namespace

int main(int argc, char** argv) { return cli::run_main("sgm-train", [&] { return run(argc, argv); }); }
