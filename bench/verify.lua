-- wrk: /auth/verify with the Bearer token given as the script's argument
-- (one live embed session, verified over and over, as a proxy does).
local token = "none"

function init(args)
	token = args[1] or token
end

function request()
	return wrk.format("GET", "/auth/verify",
		{["Authorization"] = "Bearer " .. token})
end
