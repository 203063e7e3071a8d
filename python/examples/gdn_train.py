#!/usr/bin/env python3
"""Trains a one-layer Gated DeltaNet block on random data with tlc's
chunk_gated_delta_rule (forward and backward), and the same model from the
same initialisation with a token-by-token PyTorch recurrence (float32,
autograd), printing both loss curves. The loss goes down and the curves
agree within bf16 noise.

    PYTHONPATH=python python3 python/examples/gdn_train.py [--steps N]

(FLA's own backward is not the comparison: with Triton 3.4-3.7.0 on Hopper
it refuses to run, FLA issue #640.)
"""

import argparse
import sys

import torch
import torch.nn.functional as F

import tlc.ops


class GdnBlock(torch.nn.Module):
    def __init__(self, dim, heads, head_dim):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        inner = heads * head_dim
        self.q = torch.nn.Linear(dim, inner, bias=False)
        self.k = torch.nn.Linear(dim, inner, bias=False)
        self.v = torch.nn.Linear(dim, inner, bias=False)
        self.gate = torch.nn.Linear(dim, heads)
        self.beta = torch.nn.Linear(dim, heads)
        self.out = torch.nn.Linear(inner, dim, bias=False)

    def forward(self, x, op):
        b, t, _ = x.shape
        shape = (b, t, self.heads, self.head_dim)
        # float32 parameters and activations; the GDN op takes bf16 q, k, v
        # (as in mixed-precision training) and f32 gates.
        q = F.normalize(self.q(x).view(shape), dim=-1).bfloat16()
        k = F.normalize(self.k(x).view(shape), dim=-1).bfloat16()
        v = self.v(x).view(shape).bfloat16()
        g = F.logsigmoid(self.gate(x)) / 16
        beta = torch.sigmoid(self.beta(x))
        o = op(q, k, v, g, beta)
        return self.out(o.float().reshape(b, t, -1))


def tlc_op(q, k, v, g, beta):
    o, _ = tlc.ops.chunk_gated_delta_rule(q, k, v, g, beta)
    return o


def recurrent_op(q, k, v, g, beta):
    """S_t = e^{g_t} (I - b_t k_t k_t^T) S_{t-1} + b_t k_t v_t^T,
    o_t = scale S_t^T q_t, token by token in float32."""
    b, t, h, d = q.shape
    q, k, v = q.float(), k.float(), v.float()
    state = q.new_zeros(b, h, d, d)
    outs = []
    for i in range(t):
        kt, vt, bt = k[:, i], v[:, i], beta[:, i, :, None, None]
        kts = torch.einsum("bhk,bhkv->bhv", kt, state)
        state = (torch.exp(g[:, i])[:, :, None, None]
                 * (state - bt * kt[..., None] * kts[:, :, None, :])
                 + bt * kt[..., None] * vt[:, :, None, :])
        outs.append(torch.einsum("bhkv,bhk->bhv", state, q[:, i]) * d ** -0.5)
    return torch.stack(outs, 1).to(v.dtype)


def train(op, x, y, steps, seed):
    torch.manual_seed(seed)
    model = GdnBlock(x.shape[-1], heads=4, head_dim=64).to(x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = F.mse_loss(model(x, op), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)
    gen = torch.Generator(device=args.device).manual_seed(0)
    x = torch.randn(2, args.tokens, 128, generator=gen, device=args.device)
    y = torch.randn(2, args.tokens, 128, generator=gen, device=args.device)
    if args.device == "cpu":  # the recurrence alone: a check of the recipe
        theirs = train(recurrent_op, x, y, args.steps, seed=1)
        print(" ".join(f"{v:.4f}" for v in theirs))
        return theirs, theirs
    ours = train(tlc_op, x, y, args.steps, seed=1)
    theirs = train(recurrent_op, x, y, args.steps, seed=1)
    print(f"{'step':>4} {'tlc loss':>10} {'recurrence':>10}")
    for i, (a, b) in enumerate(zip(ours, theirs)):
        print(f"{i:>4} {a:>10.5f} {b:>10.5f}")
    worst = max(abs(a - b) / b for a, b in zip(ours, theirs))
    print(f"loss {ours[0]:.4f} -> {ours[-1]:.4f}; largest relative gap to "
          f"the recurrence {worst:.2e}")
    return ours, theirs


if __name__ == "__main__":
    ours, theirs = main()
    ok = ours[-1] < 0.9 * ours[0] and all(
        abs(a - b) <= 2e-2 * b for a, b in zip(ours, theirs))
    sys.exit(0 if ok else 1)
