#pragma once
// Umbrella header: everything except the Thrust backend, which needs the CCCL
// headers on the include path — include <sgm/backend/thrust.hpp> for it.

#include "config.hpp"
#include "error.hpp"
#include "batch_view.hpp"
#include "batch.hpp"

#include "concepts/backend.hpp"
#include "concepts/sde.hpp"
#include "concepts/score_model.hpp"
#include "concepts/differentiable_score_model.hpp"
#include "concepts/predictor.hpp"
#include "concepts/class_gradient_model.hpp"

#include "backend/serial.hpp"
#include "backend/tbb.hpp"

#include "random/philox_normal.hpp"
#include "random/philox_uniform.hpp"

#include "sde/ve.hpp"
#include "sde/vp.hpp"
#include "sde/sub_vp.hpp"
#include "sde/discretization.hpp"
#include "sde/reverse_time.hpp"
#include "sde/prior.hpp"
#include "sde/drift_derivative.hpp"

#include "score/gaussian_mixture.hpp"
#include "score/mixture_score.hpp"

#include "predictor/euler_maruyama.hpp"
#include "predictor/reverse_diffusion.hpp"
#include "predictor/ancestral_sampling.hpp"
#include "predictor/no_predictor.hpp"
#include "corrector/langevin.hpp"
#include "corrector/annealed_langevin.hpp"
#include "corrector/no_corrector.hpp"

#include "sample/step_info.hpp"
#include "sample/sampling_context.hpp"
#include "sample/tweedie.hpp"
#include "sample/pc_sampler.hpp"
#include "sample/probability_flow.hpp"
#include "sample/ode_sampler.hpp"
#include "sample/rk45.hpp"

#include "control/guided_score.hpp"
#include "control/imputation_target.hpp"
#include "control/imputing_step.hpp"
#include "control/known_part_score.hpp"
#include "control/impute.hpp"
#include "control/channel_transform.hpp"
#include "control/decoupled_score.hpp"
#include "control/colorize.hpp"
#include "control/interpolation.hpp"

#include "likelihood/divergence_estimator.hpp"
#include "likelihood/augmented_flow.hpp"
#include "likelihood/log_likelihood.hpp"
#include "likelihood/bits_per_dim.hpp"

#include "io/safetensors.hpp"
#include "data/idx.hpp"
