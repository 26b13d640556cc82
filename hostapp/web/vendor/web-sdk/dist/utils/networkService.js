/**
 * Network Service
 * Provides unified API communication layer
 */
export class NetworkService {
    constructor(config) {
        this.config = config;
    }
    /**
     * Make a POST request to the Boxo Platform API
     */
    async post(endpoint, data, options) {
        const url = `${this.config.baseUrl}${endpoint}`;
        this.config.log?.('Making API request', { url, endpoint, data });
        try {
            const response = await fetch(url, {
                method: 'POST',
                headers: {
                    'Content-Type': 'application/json',
                    ...options?.headers,
                },
                body: JSON.stringify(data),
                ...options,
            });
            const responseData = await this.parseResponse(response);
            this.config.log?.('API response received', {
                endpoint,
                status: response.status,
                ok: response.ok
            });
            return {
                data: responseData,
                status: response.status,
                ok: response.ok,
            };
        }
        catch (error) {
            this.config.log?.('API request failed', { endpoint, error });
            throw error;
        }
    }
    /**
     * Make a GET request to the Boxo Platform API
     */
    async get(endpoint, params, options) {
        const url = params
            ? `${this.config.baseUrl}${endpoint}?${new URLSearchParams(params).toString()}`
            : `${this.config.baseUrl}${endpoint}`;
        this.config.log?.('Making API request', { url, endpoint, params });
        try {
            const response = await fetch(url, {
                method: 'GET',
                headers: {
                    'Content-Type': 'application/json',
                    ...options?.headers,
                },
                ...options,
            });
            const responseData = await this.parseResponse(response);
            this.config.log?.('API response received', {
                endpoint,
                status: response.status,
                ok: response.ok
            });
            return {
                data: responseData,
                status: response.status,
                ok: response.ok,
            };
        }
        catch (error) {
            this.config.log?.('API request failed', { endpoint, error });
            throw error;
        }
    }
    /**
     * Parse response body
     */
    async parseResponse(response) {
        const contentType = response.headers.get('content-type');
        // Handle non-JSON responses (e.g., HTML error pages)
        if (!contentType || !contentType.includes('application/json')) {
            const text = await response.text();
            this.config.log?.('Non-JSON response received', { contentType, text });
            if (!response.ok) {
                throw new Error(`API request failed: ${response.status} ${response.statusText}`);
            }
            // Return empty object if successful but not JSON
            return {};
        }
        try {
            return await response.json();
        }
        catch (error) {
            this.config.log?.('Failed to parse JSON response', { error });
            throw new Error('Invalid JSON response from server');
        }
    }
    /**
     * Check if response is successful
     */
    isSuccess(response) {
        return response.ok && response.status >= 200 && response.status < 300;
    }
}
//# sourceMappingURL=networkService.js.map