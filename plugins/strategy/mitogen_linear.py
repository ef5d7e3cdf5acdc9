# The linear strategy run through Mitogen when it is installed (requirements.txt installs it):
# modules run in an interpreter kept open on each host instead of a new Python per task, which makes
# a run of the site playbook with nothing to change about twice as fast. Without Mitogen, the plain
# linear strategy runs, with a warning. Turn it off with ANSIBLE_STRATEGY=linear.
from __future__ import annotations

from ansible.utils.display import Display

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError:
    from ansible.plugins.strategy.linear import StrategyModule  # noqa: F401

    Display().warning(
        "Mitogen is not installed (pip install -r requirements.txt installs it): "
        "running with the plain linear strategy, which is slower."
    )
else:
    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
        """The linear strategy, with modules run by Mitogen."""
