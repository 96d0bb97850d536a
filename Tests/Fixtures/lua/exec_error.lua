-- Compiles, but its body fails when it runs for a connection.
local settings = nil
local port = settings.port

function read_query(packet) end
