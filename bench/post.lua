-- wrk script: POST a bucket-policy request.
wrk.method = "POST"
wrk.body = '{"bucket": "mp-forwarding-acme"}'
wrk.headers["Content-Type"] = "application/json"
