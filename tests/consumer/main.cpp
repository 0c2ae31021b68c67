// Draws samples from a 1-D Gaussian with the exact score and checks the mean.
#include <sgm/sgm.hpp>

#include <cmath>
#include <cstdio>

int main() {
    using backend = sgm::serial_backend<double>;
    const auto target = sgm::gaussian_mixture<double>::gaussian({3.0}, {0.25});
    const sgm::vp_sde<double> sde(0.1, 20.0, 200);
    sgm::mixture_score<backend, sgm::vp_sde<double>> model(target, sde);
    sgm::pc_options options;
    options.count = 2000;
    const auto result = sgm::pc_sample(sde, model, sgm::euler_maruyama{}, sgm::no_corrector{}, options);
    double mean = 0;
    for (double v : result.samples.to_host()) mean += v / double(options.count);
    // 5 standard errors of the mean: 5 * 0.5 / sqrt(2000) = 0.056.
    const bool ok = std::abs(mean - 3.0) < 0.056;
    std::printf("consumer: mean %.4f (expected 3 +- 0.056), nfe %zu: %s\n", mean, result.nfe, ok ? "ok" : "FAIL");
    return ok ? 0 : 1;
}
