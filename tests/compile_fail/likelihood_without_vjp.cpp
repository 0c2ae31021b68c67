// Must NOT compile: a score model without Jacobian products cannot give a
// likelihood. The test checks that the compiler's message says what to add.

#include <sgm/backend/serial.hpp>
#include <sgm/likelihood/log_likelihood.hpp>
#include <sgm/sde/vp.hpp>

struct score_only {
    using backend_type = sgm::serial_backend<double>;
    using value_type = double;
    std::size_t dim() const { return 2; }
    void score(sgm::batch_view<const double>, const double*, sgm::batch_view<double>) {}
};

int main() {
    score_only model;
    const auto x = sgm::batch<sgm::serial_backend<double>>(1, 2);
    sgm::log_likelihood(sgm::vp_sde<double>(), model, x, sgm::likelihood_options{});
}
