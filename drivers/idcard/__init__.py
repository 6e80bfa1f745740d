"""The resident ID-card reader: api (service, events), SAM serial protocol, text decoder, driver, simulator."""
