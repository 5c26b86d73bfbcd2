"""The domain core: records, rules, store and use cases.  Never imports Qt."""
