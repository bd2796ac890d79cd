#!/usr/bin/env python3
"""The learning half of PPO, measured side by side in one run: one update of CleanRL's
ppo_continuous_action.py at its default shape (HalfCheetah's 17 observations and 6 actions,
separate 64-64 tanh actor and critic, state-independent log-std, batch 2048, 32 minibatches of
64, 10 epochs, clipped surrogate and value loss, per-minibatch advantage normalisation,
grad-norm clipping at 0.5, Adam with eps 1e-5) in Python PyTorch on one thread, against
graybox's update at the same shape (build/bench/bench_ppo_update).

The Python update below is written from CleanRL's published algorithm and defaults
(../shared/specs/algorithms.md), on the same kind of synthetic batch as the C++ side: the cost
of an update does not depend on the data's values.

Usage (Debian's python3-torch, from the repository root):
    /usr/bin/python3 bench/ppo_update.py [--updates 10] [--bin build/bench/bench_ppo_update]
"""
import argparse
import subprocess
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError:
    sys.exit("ppo_update.py needs Debian's PyTorch: apt-get install python3-torch, then run it with /usr/bin/python3")

OBS, ACT, BATCH, MINIBATCHES, EPOCHS = 17, 6, 2048, 32, 10
CLIP, VF_COEF, ENT_COEF, MAX_GRAD_NORM, LR = 0.2, 0.5, 0.0, 0.5, 3e-4


def mlp(out, gain):
    layers = [nn.Linear(OBS, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, out)]
    for layer, g in ((layers[0], 2 ** 0.5), (layers[2], 2 ** 0.5), (layers[4], gain)):
        nn.init.orthogonal_(layer.weight, g)
        nn.init.constant_(layer.bias, 0.0)
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.critic = mlp(1, 1.0)
        self.actor_mean = mlp(ACT, 0.01)
        self.actor_logstd = nn.Parameter(torch.zeros(1, ACT))

    def evaluate(self, obs, action):
        mean = self.actor_mean(obs)
        dist = torch.distributions.Normal(mean, self.actor_logstd.expand_as(mean).exp())
        return dist.log_prob(action).sum(1), dist.entropy().sum(1), self.critic(obs).view(-1)


def update(agent, optimizer, batch):
    obs, actions, logprobs, advantages, returns, values = batch
    size = BATCH // MINIBATCHES
    clipfracs = []
    for _ in range(EPOCHS):
        order = torch.randperm(BATCH)
        for start in range(0, BATCH, size):
            mb = order[start:start + size]
            new_logprob, entropy, new_value = agent.evaluate(obs[mb], actions[mb])
            logratio = new_logprob - logprobs[mb]
            ratio = logratio.exp()
            with torch.no_grad():  # CleanRL's diagnostics, logged per update
                approx_kl = ((ratio - 1) - logratio).mean()
                clipfracs.append(((ratio - 1.0).abs() > CLIP).float().mean().item())
            adv = advantages[mb]
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - CLIP, 1 + CLIP)).mean()
            v_unclipped = (new_value - returns[mb]) ** 2
            v_clipped = values[mb] + (new_value - values[mb]).clamp(-CLIP, CLIP)
            v_loss = 0.5 * torch.max(v_unclipped, (v_clipped - returns[mb]) ** 2).mean()
            loss = pg_loss - ENT_COEF * entropy.mean() + VF_COEF * v_loss
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), MAX_GRAD_NORM)
            optimizer.step()
    return approx_kl.item(), sum(clipfracs) / len(clipfracs)


def python_seconds_per_update(updates):
    torch.set_num_threads(1)
    torch.manual_seed(1)
    agent = ActorCritic()
    optimizer = torch.optim.Adam(agent.parameters(), lr=LR, eps=1e-5)
    obs = torch.randn(BATCH, OBS)
    with torch.no_grad():
        actions = agent.actor_mean(obs) + torch.randn(BATCH, ACT)
        logprobs, _, values = agent.evaluate(obs, actions)
    advantages = torch.randn(BATCH)
    batch = (obs, actions, logprobs, advantages, values + advantages, values)
    update(agent, optimizer, batch)  # warm-up
    start = time.perf_counter()
    for _ in range(updates):
        update(agent, optimizer, batch)
    return (time.perf_counter() - start) / updates


def graybox_seconds_per_update(binary, updates, threads):
    out = subprocess.run([binary, str(updates), str(threads)], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("graybox_update_seconds "):
            return float(line.split()[1])
    raise RuntimeError(binary + " printed no graybox_update_seconds line")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--bin", default="build/bench/bench_ppo_update")
    args = parser.parse_args()
    # Interleaved, so that load from elsewhere on the machine hits both sides alike.
    py, gb1, gb2 = [], [], []
    for _ in range(3):
        py.append(python_seconds_per_update(args.updates))
        gb1.append(graybox_seconds_per_update(args.bin, args.updates, 1))
        gb2.append(graybox_seconds_per_update(args.bin, args.updates, 2))
    p, g1, g2 = min(py), min(gb1), min(gb2)
    print(f"PPO update at CleanRL's shape (batch {BATCH}, {MINIBATCHES} minibatches, {EPOCHS} epochs), "
          f"best of 3 x {args.updates} updates, torch {torch.__version__}")
    print(f"| implementation | ms per update | speed-up vs PyTorch |")
    print(f"|---|---:|---:|")
    print(f"| PyTorch (Python, CleanRL's update, 1 thread) | {p * 1e3:.1f} | 1.00 |")
    print(f"| graybox, 1 thread | {g1 * 1e3:.1f} | {p / g1:.2f} |")
    print(f"| graybox, actor and critic side by side (2 threads) | {g2 * 1e3:.1f} | {p / g2:.2f} |")


if __name__ == "__main__":
    main()
