"""The fault suite (marker ``faults``; ``pytest -m faults -s`` prints its figures): real
worker processes and brokers on loopback, killed, restarted and fed bad input, with the
results checked against the pure core's replay of the same events (``workload.py``).

Knobs: ``INAPP_FAULTS_EVENTS`` (100,000: the kill -9 run on Apache Kafka),
``INAPP_FAULTS_EMBEDDED_EVENTS`` (20,000: the same on the embedded broker),
``INAPP_FAULTS_ENDPOINTS`` (2,000), ``INAPP_FAULTS_KILLS`` (3),
``INAPP_FAULTS_RESTART_EVENTS`` and ``INAPP_FAULTS_REBALANCE_EVENTS`` (30,000).
"""
