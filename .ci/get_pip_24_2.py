"""Offline stand-in for ansible-test's pip bootstrap script (~/.ansible/test/cache/get_pip_24_2.py).

ansible-test downloads get-pip from Ansible's CI file host, which CI machines here cannot reach. It runs
the script inside each fresh test venv as ``python get_pip.py pip==24.2 --no-setuptools --no-wheel``;
ensurepip plus a pip install from PyPI does the same job.
"""

import subprocess
import sys

requirements = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
if requirements:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *requirements])
