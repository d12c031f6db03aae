-- The edge agent's request-time routing, and the control calls the agent makes over its unix socket.
--
-- Every domain's settings live in the shared dictionary `edge_domains` (key: the domain, `*.` included for a
-- wildcard; value: the JSON record the agent compiled), so a change is one dictionary write, seen by every
-- worker at once, with no reload. A request looks up its Host (exact, then the longest wildcard), picks an
-- origin (priority levels, weights within a level) and hands over to the named location of its kind of
-- fetch; a failed fetch comes back through `error_page` and the next origin is tried.
local cjson = require "cjson.safe"
local lrucache = require "resty.lrucache"

local domains = ngx.shared.edge_domains
local decoded = lrucache.new(4096)
local _M = {}

-- Origin names -------------------------------------------------------------------------------------------
-- A name is resolved here, at request time, through the node's resolvers (A records; an answer is kept
-- `valid` seconds), and its addresses are held to the origin policy the agent wrote into `configure`: a
-- name any of whose addresses is in a refused range (loopback, private, link-local...) is not fetched from.
local conf = { resolvers = {}, valid = 30, timeout = 2000, refused = {}, allowed = {} }
local resolved = lrucache.new(4096)

function _M.configure(raw)
    local given = cjson.decode(raw)
    if given ~= nil then
        conf = given
    end
end

local function ipv4_number(ip)
    local a, b, c, d = ip:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    if a == nil then
        return nil
    end
    return ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d)
end

local function within(number, ranges)
    for _, range in ipairs(ranges) do
        if number >= range[1] and number <= range[2] then
            return true
        end
    end
    return false
end

local function refused(ip)
    local number = ipv4_number(ip)
    return number ~= nil and within(number, conf.refused) and not within(number, conf.allowed)
end

local function dns_query(name, id)
    local parts = { string.char(math.floor(id / 256), id % 256, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0) }
    for label in name:gmatch("[^.]+") do
        parts[#parts + 1] = string.char(#label) .. label
    end
    parts[#parts + 1] = "\0\0\1\0\1"
    return table.concat(parts)
end

local function skip_name(data, pos)
    while true do
        local length = data:byte(pos)
        if length == nil then
            return nil
        elseif length >= 192 then
            return pos + 2
        elseif length == 0 then
            return pos + 1
        end
        pos = pos + 1 + length
    end
end

-- The rcode and the A records of an answer to query `id`, or nil for another query's or a garbled answer.
local function dns_answers(data, id)
    if #data < 12 or data:byte(1) * 256 + data:byte(2) ~= id then
        return nil
    end
    local rcode = data:byte(4) % 16
    local questions = data:byte(5) * 256 + data:byte(6)
    local count = data:byte(7) * 256 + data:byte(8)
    local pos = 13
    for _ = 1, questions do
        pos = skip_name(data, pos)
        if pos == nil then
            return nil
        end
        pos = pos + 4
    end
    local found = {}
    for _ = 1, count do
        pos = skip_name(data, pos)
        if pos == nil or pos + 9 > #data then
            return nil
        end
        local rtype = data:byte(pos) * 256 + data:byte(pos + 1)
        local length = data:byte(pos + 8) * 256 + data:byte(pos + 9)
        pos = pos + 10
        if rtype == 1 and length == 4 and pos + 3 <= #data then
            found[#found + 1] = string.format("%d.%d.%d.%d", data:byte(pos, pos + 3))
        end
        pos = pos + length
    end
    return rcode, found
end

local function ask(server, name)
    local sock = ngx.socket.udp()
    sock:settimeout(conf.timeout / 2)
    local ok, err = sock:setpeername(server[1], server[2])
    if not ok then
        return nil, err
    end
    local id = math.random(0, 65535)
    local packet = dns_query(name, id)
    for _ = 1, 2 do
        sock:send(packet)
        while true do
            local data = sock:receive()
            if data == nil then
                break
            end
            local rcode, found = dns_answers(data, id)
            if rcode ~= nil then
                sock:close()
                return rcode, found
            end
        end
    end
    sock:close()
    return nil, "the resolver did not answer"
end

-- The addresses of `name`, or nil and why not.
local function addresses(name)
    local hit = resolved:get(name)
    if hit ~= nil then
        return hit[1], hit[2]
    end
    local result, why = nil, "no resolver is configured on the edge node"
    for _, server in ipairs(conf.resolvers) do
        local rcode, found = ask(server, name)
        if rcode == 0 and #found > 0 then
            result, why = found, nil
            break
        elseif rcode ~= nil then
            why = rcode == 3 and "the name does not exist" or "the name has no address"
        else
            why = found
        end
    end
    resolved:set(name, { result, why }, conf.valid)
    return result, why
end

-- The peer to connect to for `peer` (`name:port` is resolved), or nil and why not.
local function connect_to(peer)
    local host, port = peer:match("^([%w%.%-]+):(%d+)$")
    if host == nil or ipv4_number(host) ~= nil then
        return peer
    end
    local found, why = addresses(host)
    if found == nil then
        return nil, host .. " does not resolve (" .. why .. ")"
    end
    for _, ip in ipairs(found) do
        if refused(ip) then
            return nil, host .. " resolves to " .. ip .. ", which the origin policy refuses"
        end
    end
    return found[math.random(#found)] .. ":" .. port
end

local function record(key)
    local raw = domains:get(key)
    if raw == nil then
        return nil
    end
    local hit = decoded:get(key)
    if hit ~= nil and hit[1] == raw then
        return hit[2]
    end
    local rec = cjson.decode(raw)
    if rec ~= nil then
        decoded:set(key, { raw, rec })
    end
    return rec
end

local function lookup(host)
    local rec = record(host)
    if rec ~= nil then
        return rec
    end
    local rest = host
    while true do
        local dot = rest:find(".", 1, true)
        if dot == nil then
            return nil
        end
        rest = rest:sub(dot + 1)
        if rest:find(".", 1, true) == nil then
            return nil
        end
        rec = record("*." .. rest)
        if rec ~= nil then
            return rec
        end
    end
end

local function pick(candidates)
    local total = 0
    for _, c in ipairs(candidates) do
        total = total + c[2].w
    end
    local roll = math.random() * total
    for _, c in ipairs(candidates) do
        roll = roll - c[2].w
        if roll <= 0 then
            return c
        end
    end
    return candidates[#candidates]
end

-- Hand the request to the next origin not tried yet (lowest priority level first), or answer 502.
local function forward(rec)
    local tried = ngx.var.edge_tried
    for level, origins in ipairs(rec.o) do
        local candidates = {}
        for index, origin in ipairs(origins) do
            local id = "," .. level .. "." .. index .. ","
            if not tried:find(id, 1, true) then
                candidates[#candidates + 1] = { id, origin }
            end
        end
        if #candidates > 0 then
            local chosen = pick(candidates)
            local origin = chosen[2]
            ngx.var.edge_tried = tried .. chosen[1]
            if origin.loc == "" then
                -- Verification is on and no SNI is sent: no certificate can match (the vendor's behaviour).
                return forward(rec)
            end
            local peer, why = connect_to(origin.a)
            if peer == nil then
                ngx.log(ngx.WARN, rec.k, ": origin ", why)
                return forward(rec)
            end
            ngx.var.edge_peer = peer
            ngx.var.edge_sni = origin.n
            return ngx.exec(origin.loc)
        end
    end
    return ngx.exit(ngx.HTTP_BAD_GATEWAY)
end

function _M.route()
    local rec = lookup(ngx.var.host)
    if rec == nil then
        ngx.header["X-Edge-Config-Generation"] = _M.generation
        return ngx.exit(ngx.HTTP_NOT_FOUND)
    end
    ngx.var.edge_revision = rec.r
    ngx.var.edge_key = rec.k
    if not rec.on then
        return ngx.exit(ngx.HTTP_FORBIDDEN)
    end
    if #rec.o == 0 then
        return ngx.exit(ngx.HTTP_BAD_GATEWAY)
    end
    ngx.var.edge_host = rec.host ~= "" and rec.host or ngx.var.host
    return forward(rec)
end

-- After a failed fetch: the same domain's next origin (the record may have changed meanwhile: follow it).
function _M.retry()
    local rec = record(ngx.var.edge_key)
    if rec == nil then
        return ngx.exit(ngx.HTTP_BAD_GATEWAY)
    end
    ngx.var.edge_revision = rec.r
    return forward(rec)
end

-- Control ------------------------------------------------------------------------------------------------

local function reply(status, body)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.say(cjson.encode(body))
    return ngx.exit(status)
end

local function body_json()
    ngx.req.read_body()
    local data = ngx.req.get_body_data()
    if data == nil then
        local file = ngx.req.get_body_file()
        if file ~= nil then
            local handle = io.open(file, "rb")
            if handle ~= nil then
                data = handle:read("*a")
                handle:close()
            end
        end
    end
    return data and cjson.decode(data)
end

-- POST /set {"set": {key: record JSON}, "delete": [key]} -> {"failed": {key: reason}}
-- POST /keep {"keep": [key]}: deletes every other key (the end of a full sync).
-- GET /generation -> {"generation": ..., "domains": n}
function _M.control()
    local uri = ngx.var.uri
    if uri == "/generation" then
        return reply(200, { generation = _M.generation, domains = #domains:get_keys(0) })
    end
    local body = body_json()
    if type(body) ~= "table" then
        return reply(400, { error = "not JSON" })
    end
    if uri == "/set" then
        local failed = {}
        for _, key in ipairs(body.delete or {}) do
            domains:delete(key)
        end
        for key, raw in pairs(body.set or {}) do
            -- safe_set never evicts another domain to make room.
            local ok, err = domains:safe_set(key, raw)
            if not ok then
                failed[key] = err
            end
        end
        return reply(200, { failed = failed })
    elseif uri == "/keep" then
        local keep = {}
        for _, key in ipairs(body.keep or {}) do
            keep[key] = true
        end
        local removed = 0
        for _, key in ipairs(domains:get_keys(0)) do
            if not keep[key] then
                domains:delete(key)
                removed = removed + 1
            end
        end
        return reply(200, { removed = removed })
    end
    return reply(404, { error = "unknown call" })
end

return _M
