"""Fake quantisation and the two precision policies against hand-derived values."""

import math
import unittest

import torch

from capture.policy import AdaptivePolicy, CptSchedule, gradient_diversity, kl_divergence
from capture.quant import QLinear, fixed_point_quantise


class FixedPoint(unittest.TestCase):
    def test_nearest_rounding_on_the_grid_of_the_range(self):
        # max |x| = 1 -> FL = 4 - 1 - 0 = 3, step 1/8, range [-8, 7] / 8
        x = torch.tensor([0.3, -0.7, 1.0, 0.0])
        q = fixed_point_quantise(x, 4, stochastic=False)
        self.assertEqual(q.tolist(), [0.25, -0.75, 0.875, 0.0])

    def test_range_sets_the_fractional_length(self):
        # max |x| = 5 -> ceil(log2 5) = 3 -> FL = 8 - 1 - 3 = 4, step 1/16
        q = fixed_point_quantise(torch.tensor([5.0, 0.04]), 8, stochastic=False)
        self.assertEqual(q.tolist(), [5.0, 0.0625])

    def test_stochastic_rounding_is_unbiased(self):
        torch.manual_seed(1)
        # 0.3 lies between grid points 0.25 and 0.375 (step 1/8): mean must approach 0.3
        x = torch.full((20000,), 0.3)
        x[0] = 1.0
        q = fixed_point_quantise(x, 4)[1:]
        self.assertEqual(set(q.unique().tolist()), {0.25, 0.375})
        self.assertAlmostEqual(q.mean().item(), 0.3, delta=0.003)

    def test_fp32_and_zero_tensors_pass_through(self):
        x = torch.tensor([0.123456])
        self.assertIs(fixed_point_quantise(x, None), x)
        self.assertEqual(fixed_point_quantise(torch.zeros(3), 4).tolist(), [0, 0, 0])
        with self.assertRaises(ValueError):
            fixed_point_quantise(x, 1)

    def test_quantised_layer_publishes_what_it_multiplied(self):
        layer = QLinear(2, 1, bias=False)
        with torch.no_grad():
            layer.weight.copy_(torch.tensor([[1.0, 0.01]]))
        layer.bits = {"W": 4, "A": None, "G": 4}
        torch.manual_seed(0)
        out = layer(torch.tensor([[1.0, 1.0]]))
        w = layer.bitsim_w.flatten().tolist()
        self.assertEqual(w[0], 0.875)             # 1.0 saturates at 7/8
        self.assertIn(w[1], (0.0, 0.125))         # 0.01 rounds to a neighbour
        out.sum().backward()
        self.assertEqual(layer.bitsim_g.tolist(), [[0.875]])   # gradient 1 saturates too


class Cpt(unittest.TestCase):
    def test_cosine_cycle_values(self):
        s = CptSchedule(total_iters=80, cycles=2, min_bits=3, max_bits=8)
        # period 40: t=0 -> 3; t=20 -> ceil(3 + 2.5 * 1) = 6; t=39 -> ceil(7.98) = 8
        # t=10 -> ceil(3 + 2.5 * (1 - cos(pi/4))) = ceil(3.73) = 4; t=40 starts over
        self.assertEqual([s.forward_bits(t) for t in (0, 10, 20, 39, 40)], [3, 4, 6, 8, 3])
        self.assertEqual(s.params(), "cycles=2 bmin=3 bmax=8 bgrad=8")

    def test_bad_parameters(self):
        with self.assertRaises(ValueError):
            CptSchedule(10, min_bits=9, max_bits=8)


class Adaptive(unittest.TestCase):
    def test_gradient_diversity(self):
        e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
        self.assertEqual(gradient_diversity([e1, e2]), 1.0)      # (1 + 1) / 2
        self.assertEqual(gradient_diversity([e1, e1]), 0.5)      # (1 + 1) / 4
        self.assertEqual(gradient_diversity([e1, -e1]), float("inf"))

    def test_kl_of_identical_samples_is_zero(self):
        w = torch.linspace(-1, 1, 101)
        self.assertAlmostEqual(kl_divergence(w, w, 16), 0.0, places=6)
        self.assertGreater(kl_divergence(w, fixed_point_quantise(w, 2, stochastic=False), 16),
                           0.1)

    def test_push_up_from_diversity(self):
        def pair(x2):
            # g = [1, +-sqrt(x2)]: sum ||g||^2 = 2 (1 + x2), ||sum g||^2 = 4, GD = (1 + x2) / 2
            r = math.sqrt(x2)
            return [torch.tensor([1.0, r]), torch.tensor([1.0, -r])]

        p = AdaptivePolicy({}, max_push_up=10)
        e1 = torch.tensor([1.0, 0.0])
        self.assertEqual(p.push_up([e1, e1]), 1)        # GD 0.5: ln 0.5 - 1 < 0
        self.assertEqual(p.push_up(pair(15)), 1)        # GD 8: l = 1.079, ceil(0.86) = 1
        self.assertEqual(p.push_up(pair(10)), 3)        # GD 5.5: l = 0.705, ceil(2.01) = 3
        self.assertEqual(p.push_up(pair(7)), 7)         # GD 4: l = 0.386, ceil(6.70) = 7
        p.max_push_up = 4
        self.assertEqual(p.push_up(pair(7)), 4)         # capped

    def test_push_down_finds_the_smallest_faithful_width(self):
        # 8 evenly spaced values in [-1, 7/8] sit exactly on the 4-bit grid (step 1/8 after
        # scaling); fewer bits merge neighbours and the KL divergence becomes positive.
        w = torch.arange(-8, 8, dtype=torch.float32) / 8
        p = AdaptivePolicy({}, min_bits=2, max_bits=8, kl_eps=1e-9, resolution=16)
        self.assertEqual(p.push_down(w), 4)

    def test_decisions_every_interval(self):
        layer = torch.nn.Linear(4, 4)
        p = AdaptivePolicy({"fc": layer}, interval=5, lookback=2)
        self.assertEqual(p.decide(0), (None, 0))
        bits, ops = p.decide(4)
        self.assertIn("fc", bits)
        self.assertGreater(ops, 0)
        self.assertTrue(p.min_bits <= bits["fc"] <= p.max_bits)


if __name__ == "__main__":
    unittest.main()
