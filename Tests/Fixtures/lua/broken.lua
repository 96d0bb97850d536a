-- Does not compile: line 3 lacks its "then", which the compiler reports on line 4.
function read_query(packet)
	if packet:byte() == 3
		return
	end
end
