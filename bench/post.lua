-- wrk: POST with an empty body (create-session).
wrk.method = "POST"
