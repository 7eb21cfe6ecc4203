-- wrk: every request redeems a different pre-created session.  The ids
-- file is split between threads, line by line.
local threads = 0
local ids = {}
local next_id = 0

function setup(thread)
	thread:set("index", threads)
	threads = threads + 1
end

function init(args)
	local n = 0
	for line in io.lines(args[1]) do
		if n % tonumber(args[2]) == index then
			ids[#ids + 1] = line
		end
		n = n + 1
	end
end

function request()
	next_id = next_id + 1
	local id = ids[next_id] or "exhausted"
	return wrk.format("POST", "/auth/validate-session?session_id=" .. id)
end
