"""The encrypting PIN pad (EPP, 密码键盘): service API, vendor protocol modules, serial driver, simulator.

The services layer sees only :mod:`drivers.pinpad.api` and :func:`drivers.pinpad.factory.create_pinpad`.
"""
