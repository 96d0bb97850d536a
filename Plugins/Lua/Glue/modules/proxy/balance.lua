-- proxy.balance: pick a backend for proxy.connection.backend_ndx.
--
-- The funnel pools connections itself, so "idle" means "fewest clients": each function returns
-- the 1-based index of the UP backend of the wanted type with the fewest connected clients.
local M = {}

local function least_busy(wanted_type)
	local best, best_clients
	local backends = proxy.global.backends
	for i = 1, #backends do
		local b = backends[i]
		if b.state ~= proxy.BACKEND_STATE_DOWN and (wanted_type == nil or b.type == wanted_type)
			and (best == nil or b.connected_clients < best_clients) then
			best, best_clients = i, b.connected_clients
		end
	end
	return best
end

-- A read-write backend, or failing that any backend that is up.
function M.idle_failsafe_rw() return least_busy(proxy.BACKEND_TYPE_RW) or least_busy(nil) end

-- A read-only backend, or nil when none is up.
function M.idle_ro() return least_busy(proxy.BACKEND_TYPE_RO) end

return M
