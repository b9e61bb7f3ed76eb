#!/usr/bin/env bash
# Entry point for the test/CI Apache Kafka broker: start | stop | restart | status | version | fetch.
# The work is done by kafka.py beside this file (standard library only, any python3 >= 3.9).
set -euo pipefail
exec "${PYTHON:-python3}" "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka.py" "$@"
