"""DLSS generators, ALRC, the coverage normaliser and the replay buffer (seed 004)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dosewise.data.partial_scans import network_input
from dosewise.errors import InvalidParameterError
from dosewise.models import ModelConfig
from dosewise.models.dlss import build_supersampler, interpolate_from_mask
from dosewise.physics.partial_scan import loss_normaliser_p, partial_scan
from dosewise.training.alrc import ALRC
from dosewise.training.supersample import CoverageNormaliser, ReplayBuffer
from dosewise.config import ReplayConfig, SupersampleConfig


def _input(image: np.ndarray, mask: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(network_input(image, mask))[None]


@pytest.mark.parametrize("kind", ["two-stage", "one-stage"])
@pytest.mark.parametrize(("shape", "offset"), [((64, 64), (0, 0)), ((333, 517), (2, 3)), ((37, 41), (4, 1))])
def test_output_equals_the_input_at_sampled_positions(kind: str, shape, offset) -> None:
    torch.manual_seed(0)
    step = 5
    network = build_supersampler(ModelConfig(name=f"dlss-{kind}", in_channels=2, options=(
        {"step": step, "width": 8} if kind == "one-stage" else {"width": 8, "inner_width": 8})))
    for parameter in network.parameters():  # not the zero-initialised head: a trained-like network
        torch.nn.init.normal_(parameter, std=0.1)
    image = np.random.default_rng(1).random(shape, dtype=np.float32)
    scan = partial_scan(image, step, offset)
    with torch.no_grad():
        output = network.eval()(_input(image, scan.mask))[0, 0].numpy()
    assert output.shape == shape
    np.testing.assert_array_equal(output[scan.mask], image[scan.mask])
    assert np.isfinite(output).all()
    assert np.abs(output[~scan.mask] - scan.filled[~scan.mask]).max() > 1e-3  # it does fill in


def test_two_stage_takes_an_irregular_mask() -> None:
    rng = np.random.default_rng(2)
    image = rng.random((70, 90), dtype=np.float32)
    mask = rng.random((70, 90)) < 0.05
    network = build_supersampler(ModelConfig(name="dlss-two-stage", in_channels=2, options={"width": 8, "inner_width": 8})).eval()
    with torch.no_grad():
        output = network(_input(image, mask))[0, 0].numpy()
    np.testing.assert_array_equal(output[mask], image[mask])


@pytest.mark.parametrize("step", [4, 5])
def test_untrained_one_stage_is_the_nearest_neighbour_fill(step: int) -> None:
    image = np.random.default_rng(3).random((50, 61), dtype=np.float32)
    scan = partial_scan(image, step, (1, 2))
    network = build_supersampler(ModelConfig(name="dlss-one-stage", in_channels=2, options={"step": step})).eval()
    with torch.no_grad():
        output = network(_input(image, scan.mask))[0, 0].numpy()
    np.testing.assert_allclose(output, scan.filled, atol=1e-6)


def test_untrained_two_stage_is_a_smooth_interpolation_exact_on_a_constant() -> None:
    image = np.full((64, 64), 0.3, np.float32)
    scan = partial_scan(image, 6)
    network = build_supersampler(ModelConfig(name="dlss-two-stage", in_channels=2)).eval()
    with torch.no_grad():
        output = network(_input(image, scan.mask))[0, 0].numpy()
    np.testing.assert_allclose(output, 0.3, atol=1e-5)
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))
    scan = partial_scan(ramp, 4)
    smooth = interpolate_from_mask(*_input(ramp, scan.mask).split(1, dim=1))[0, 0].numpy()
    assert np.abs(smooth - ramp)[8:-8, 8:-8].max() < 0.01  # interior of a ramp: nearly exact


def test_one_stage_and_two_stage_configs_are_checked() -> None:
    with pytest.raises(InvalidParameterError, match="step"):
        build_supersampler(ModelConfig(name="dlss-one-stage", in_channels=2))
    with pytest.raises(InvalidParameterError, match="one coverage"):
        SupersampleConfig.validate_dict({"model": {"name": "dlss-one-stage", "in_channels": 2, "options": {"step": 5}},
                                         "data": {"folders": ["x"], "steps": [4, 5]}})


def test_alrc_clips_an_outlier_to_mean_plus_three_sigma_and_keeps_the_rest() -> None:
    alrc = ALRC(mu1=1.0, mu2=1.25, beta1=0.5, beta2=0.5)  # sigma = 0.5: threshold 2.5
    losses = torch.tensor([1.0, 2.0, 10.0], requires_grad=True)
    clipped = alrc.eval()(losses)
    np.testing.assert_allclose(clipped.detach().numpy(), [1.0, 2.0, 2.5], rtol=1e-6)
    clipped.sum().backward()
    np.testing.assert_allclose(losses.grad.numpy(), [1.0, 1.0, 0.25], rtol=1e-6)  # gradient scaled by 2.5/10
    assert float(alrc.mu1) == 1.0  # eval mode: no update


def test_alrc_moments_follow_the_losses_in_training() -> None:
    alrc = ALRC(beta1=0.9, beta2=0.9).train()  # seed constants mu1 = 25, mu2 = 30
    assert float(alrc.threshold()) == 25.0  # mu2 < mu1^2: no spread yet
    for _ in range(300):
        alrc(torch.full((4,), 2.0))
    assert float(alrc.mu1) == pytest.approx(2.0, rel=1e-3)
    assert float(alrc.threshold()) == pytest.approx(2.0, abs=0.05)


def test_coverage_normaliser_seed_and_moving_average() -> None:
    steps = torch.tensor([4, 10])
    paper = CoverageNormaliser("paper", [4, 10])
    np.testing.assert_allclose(paper(steps, torch.ones(2)).numpy(),
                               loss_normaliser_p(1 / np.array([16, 100])))
    ema = CoverageNormaliser("ema", [4, 10], beta=0.5).train()
    for _ in range(40):  # step 10 errors are 3x those of step 4
        p = ema(steps, torch.tensor([0.01, 0.03]))
    np.testing.assert_allclose(p.numpy(), [0.5, 1.5], rtol=1e-4)
    assert torch.equal(CoverageNormaliser("none", [4])(steps, torch.ones(2)), torch.ones(2))


def test_coverage_normaliser_repeated_steps_and_a_changed_step_list() -> None:
    steps = torch.tensor([4, 10])
    ema = CoverageNormaliser("ema", [4, 4, 10], beta=0.5).train()  # 4 drawn twice as often
    for _ in range(40):
        p = ema(steps, torch.tensor([0.01, 0.03]))
    np.testing.assert_allclose(p.numpy(), [0.5, 1.5], rtol=1e-4)  # one average per distinct step
    wider = CoverageNormaliser("ema", [4, 10, 20])
    wider.load_state_dict(ema.state_dict())  # a checkpoint of another step list resumes, averages restarted
    np.testing.assert_allclose(wider.mse_ema.numpy(), loss_normaliser_p(1 / np.array([16, 100, 400])))


def test_replay_keeps_the_hardest_and_puts_one_back() -> None:
    replay = ReplayBuffer(ReplayConfig(top_fraction=0.2, probability=1.0, capacity=8))
    x = torch.arange(40.0).reshape(40, 1, 1, 1)
    batch = [x, x.clone(), torch.arange(40)]
    replay.offer(batch, torch.arange(40.0))  # losses 0..39: the top 20 % are 32..39
    assert sorted(int(item[2]) for item in replay.items) == list(range(32, 40))
    new = [torch.zeros(4, 1, 1, 1), torch.zeros(4, 1, 1, 1), torch.full((4,), -1)]
    mixed = replay.mix(new, np.random.default_rng(0))
    assert int((mixed[2] >= 32).sum()) == 1 and len(replay.items) == 7
    assert int((new[2] == -1).sum()) == 4  # the caller's batch is not modified in place
