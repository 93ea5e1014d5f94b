"""Webhooks: endpoints that receive signed deliveries of domain events (Standard Webhooks).

`model` holds the values, `events` the event types and their wire names, `urls` which
destinations are allowed, `signing` secrets, ids and signatures, `retries` what an attempt's
result does to its delivery and endpoint, `payloads` the bodies, `ports` what storage and
transport must provide, and `admin` / `delivery` the use cases.
"""
